import { test } from "node:test";
import assert from "node:assert/strict";
import {
  run,
  createTask,
  sleep,
  timeout,
  StreamReader,
  IncompleteReadError,
  LimitOverrunError,
  CancelledError,
  TimeoutError,
} from "../../src/index.ts";

const b = (s: string): Buffer => Buffer.from(s);

void test("read(n) returns what is buffered, at most n; read() reads to EOF", async () => {
  await run(async () => {
    const r = new StreamReader();
    r.feedData(b("hello "));
    r.feedData(b("world"));
    assert.equal((await r.read(3)).toString(), "hel");
    assert.equal((await r.read(100)).toString(), "lo world");
    r.feedData(b("abc"));
    r.feedEof();
    assert.equal((await r.read()).toString(), "abc");
    assert.equal((await r.read()).length, 0);
    assert.equal((await r.read(0)).length, 0);
    assert.equal(r.atEof(), true);
  });
});

void test("a pending read is woken by data, and by EOF with an empty Buffer", async () => {
  await run(async () => {
    const r = new StreamReader();
    const t = createTask(() => r.read(10));
    await sleep(0);
    r.feedData(b("x"));
    assert.equal((await t).toString(), "x");
    const t2 = createTask(() => r.read(10));
    await sleep(0);
    r.feedEof();
    assert.equal((await t2).length, 0);
  });
});

void test("readExactly: exact sizes across chunks; IncompleteReadError with partial at EOF", async () => {
  await run(async () => {
    const r = new StreamReader();
    r.feedData(b("ab"));
    r.feedData(b("cd"));
    r.feedData(b("ef"));
    assert.equal((await r.readExactly(3)).toString(), "abc");
    assert.equal((await r.readExactly(0)).length, 0);
    r.feedEof();
    const error = await r.readExactly(5).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.partial.toString(), "def");
    assert.equal(error.expected, 5);
    await assert.rejects(r.readExactly(-1), RangeError);
  });
});

void test("readUntil: one separator, several separators (earliest end wins), multi-byte separators split across chunks", async () => {
  await run(async () => {
    const r = new StreamReader();
    r.feedData(b("GET / HTTP/1.1\r"));
    r.feedData(b("\nHost: x\r\n\r\nbody"));
    assert.equal((await r.readUntil("\r\n")).toString(), "GET / HTTP/1.1\r\n");
    assert.equal((await r.readUntil([b("\r\n\r\n"), b("\n")])).toString(), "Host: x\r\n");
    assert.equal((await r.readUntil(["\r\n\r\n", "\r\n"])).toString(), "\r\n");
    await assert.rejects(r.readUntil(""), RangeError);
    await assert.rejects(r.readUntil([]), RangeError);
    r.feedEof();
    const error = await r.readUntil("!").catch((e: unknown) => e);
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.partial.toString(), "body");
    assert.equal(error.expected, null);
  });
});

void test("readUntil over the limit throws LimitOverrunError and keeps the data", async () => {
  await run(async () => {
    const r = new StreamReader({ limit: 8 });
    r.feedData(b("0123456789abcdef"));
    const error = await r.readUntil("\n").catch((e: unknown) => e);
    assert.ok(error instanceof LimitOverrunError);
    assert.ok(error.consumed > 8);
    assert.equal((await r.read(100)).toString(), "0123456789abcdef", "the data must still be buffered");
    r.feedData(b("0123456789\nrest"));
    const found = await r.readUntil("\n").catch((e: unknown) => e);
    assert.ok(found instanceof LimitOverrunError);
    assert.match(found.message, /Separator is found, but chunk is longer than limit/);
    assert.equal(found.consumed, 10);
    assert.equal((await r.read(100)).toString(), "0123456789\nrest");
  });
});

void test("readLine over the limit throws LimitOverrunError and discards the oversized line", async () => {
  await run(async () => {
    const r = new StreamReader({ limit: 4 });
    r.feedData(b("toolongline\nok\n"));
    await assert.rejects(r.readLine(), LimitOverrunError);
    assert.equal((await r.readLine()).toString(), "ok\n");
    r.feedData(b("aaaaaaaaaaaa"));
    await assert.rejects(r.readLine(), LimitOverrunError);
    r.feedData(b("x\n"));
    r.feedEof();
    assert.equal((await r.readLine()).toString(), "x\n", "the unterminated oversized data was discarded");
    assert.equal((await r.readLine()).length, 0);
  });
});

void test("for await yields lines, the last one without a newline", async () => {
  await run(async () => {
    const r = new StreamReader();
    r.feedData(b("a\nbb\nccc"));
    r.feedEof();
    const lines: string[] = [];
    for await (const line of r) lines.push(line.toString());
    assert.deepEqual(lines, ["a\n", "bb\n", "ccc"]);
  });
});

void test("setException fails the pending read and every later read", async () => {
  await run(async () => {
    const r = new StreamReader();
    const t = createTask(() => r.readLine());
    await sleep(0);
    const boom = new Error("reset");
    r.setException(boom);
    await assert.rejects(t, (e) => e === boom);
    await assert.rejects(r.read(1), (e) => e === boom);
    assert.equal(r.exception(), boom);
  });
});

void test("two concurrent reads: the second throws", async () => {
  await run(async () => {
    const r = new StreamReader();
    const t = createTask(() => r.read(1));
    await sleep(0);
    await assert.rejects(r.read(1), /already waiting/);
    r.feedData(b("z"));
    assert.equal((await t).toString(), "z");
  });
});

void test("a cancelled or timed-out read loses no data", async () => {
  await run(async () => {
    const r = new StreamReader();
    const t = createTask(() => r.readExactly(4));
    await sleep(0);
    r.feedData(b("ab"));
    await sleep(0);
    t.cancel();
    await assert.rejects(t, CancelledError);
    await assert.rejects(timeout(0.01, () => r.readUntil("\n")), TimeoutError);
    r.feedData(b("cd\n"));
    assert.equal((await r.readLine()).toString(), "abcd\n");
  });
});

void test("backpressure: pauses the transport over 2x limit, resumes at the limit", async () => {
  await run(async () => {
    const calls: string[] = [];
    const r = new StreamReader({ limit: 4 });
    r.setTransport({ pauseReading: () => calls.push("pause"), resumeReading: () => calls.push("resume") });
    r.feedData(b("12345678"));
    assert.deepEqual(calls, []);
    r.feedData(b("9"));
    assert.deepEqual(calls, ["pause"]);
    await r.read(3);
    assert.deepEqual(calls, ["pause"]);
    await r.read(2);
    assert.deepEqual(calls, ["pause", "resume"]);
    assert.match(String(r), /<StreamReader 4 bytes limit=4>/);
  });
});

// Deterministic PRNG (mulberry32) so a failure can be replayed.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = { kind: "read" | "exactly" | "until" | "line"; n: number };

async function replay(data: Buffer, chunks: number[], ops: Op[]): Promise<string[]> {
  const r = new StreamReader({ limit: 64 });
  const feeder = createTask(async () => {
    let off = 0;
    for (const size of chunks) {
      r.feedData(data.subarray(off, off + size));
      off += size;
      await sleep(0);
    }
    r.feedEof();
  });
  const out: string[] = [];
  for (const op of ops) {
    try {
      let got: Buffer;
      if (op.kind === "read") got = await r.read(op.n);
      else if (op.kind === "exactly") got = await r.readExactly(op.n);
      else if (op.kind === "until") got = await r.readUntil(["\r\n", "|"]);
      else got = await r.readLine();
      // read(n) may legitimately return less depending on chunking: only its bytes' order matters,
      // so it is recorded by length-independent concatenation below.
      out.push(`${op.kind}:${op.kind === "read" ? "" : got.toString("hex")}`);
      if (op.kind === "read") out.push(`+${got.toString("hex")}`);
    } catch (error) {
      out.push(`${op.kind}!${(error as Error).name}:${error instanceof IncompleteReadError ? error.partial.toString("hex") : ""}`);
    }
  }
  out.push(`rest:${(await r.read()).toString("hex")}`);
  await feeder;
  return out;
}

function normalize(out: string[]): string[] {
  // Merge the bytes read by read(n) between structured reads: chunking changes how they split.
  const merged: string[] = [];
  let pending = "";
  for (const item of out) {
    if (item.startsWith("+")) pending += item.slice(1);
    else if (item === "read:") continue;
    else {
      if (pending !== "") merged.push(`read:${pending}`);
      pending = "";
      merged.push(item);
    }
  }
  return merged;
}

void test("randomized chunking (seeded): every chunking of the same bytes gives the same results", async () => {
  await run(async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const alphabet = "ab\r\n|x";
      const data = Buffer.from(Array.from({ length: 400 }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(""));
      // Only reads whose results do not depend on chunking: exact sizes, separators, lines.
      const ops: Op[] = Array.from({ length: 60 }, () => {
        const k = rand();
        return k < 0.3 ? { kind: "exactly" as const, n: 1 + Math.floor(rand() * 20) } : k < 0.6 ? { kind: "until" as const, n: 0 } : { kind: "line" as const, n: 0 };
      });
      let expected: string[] | null = null;
      for (let variant = 0; variant < 5; variant++) {
        const chunks: number[] = [];
        let left = data.length;
        while (left > 0) {
          const size = variant === 0 ? left : Math.min(left, 1 + Math.floor(rand() * (variant * 7)));
          chunks.push(size);
          left -= size;
        }
        const got = normalize(await replay(data, chunks, ops));
        if (expected === null) expected = got;
        else assert.deepEqual(got, expected, `seed ${seed} variant ${variant}`);
      }
    }
  });
});

void test("feedData after feedEof throws; bad limits are rejected", async () => {
  await run(async () => {
    const r = new StreamReader();
    r.feedEof();
    assert.throws(() => r.feedData(b("x")), /after feedEof/);
    assert.throws(() => new StreamReader({ limit: 0 }), RangeError);
    return Promise.resolve();
  });
});

void test("randomized read(n) sizes (seeded): the bytes come out whole and in order, whatever the chunking", async () => {
  await run(async () => {
    for (let seed = 100; seed < 110; seed++) {
      const rand = rng(seed);
      const data = Buffer.from(Array.from({ length: 5000 }, () => Math.floor(rand() * 256)));
      const r = new StreamReader(256);
      const feeder = createTask(async () => {
        for (let off = 0; off < data.length; ) {
          const size = 1 + Math.floor(rand() * 700);
          r.feedData(data.subarray(off, off + size));
          off += size;
          if (rand() < 0.5) await sleep(0);
        }
        r.feedEof();
      });
      const parts: Buffer[] = [];
      for (;;) {
        const n = 1 + Math.floor(rand() * 300);
        const part = await r.read(n);
        assert.ok(part.length <= n);
        if (part.length === 0) break;
        parts.push(part);
      }
      await feeder;
      assert.ok(Buffer.concat(parts).equals(data), `seed ${seed}`);
    }
  });
});

void test("a reader made outside a running loop works once used inside one; a number is the limit", async () => {
  const r = new StreamReader(10);
  assert.equal(r.limit, 10);
  await run(async () => {
    const t = createTask(() => r.readExactly(2));
    await sleep(0);
    r.feedData(b("ok"));
    assert.equal((await t).toString(), "ok");
  });
});
