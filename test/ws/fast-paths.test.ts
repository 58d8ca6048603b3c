/**
 * The receive and send fast paths of aiots/ws (what the echo benchmark exercises): a message handed
 * straight to the waiting recv(), buffered messages returned without suspending but within the
 * core's fast-path budget, cancelled waits that lose nothing, and the server's own framing of whole
 * uncompressed messages, interleaved with frames that go through ws.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, TimeoutError, createTask, run, sleep, timeout } from "../../src/index.ts";
import { connect, serve, type WebSocket, type WebSocketServer } from "../../src/ws.ts";
import { flag } from "../helpers/http.ts";

function portOf(server: WebSocketServer): number {
  return (server.sockets[0]!.getsockname() as [string, number])[1];
}

// A string of exactly n bytes of UTF-8, mostly 3-byte characters (so bytes and length differ).
function textOfBytes(n: number): string {
  return "€".repeat(Math.floor(n / 3)) + "x".repeat(n % 3);
}

async function queuedAtLeast(ws: WebSocket, n: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const queued = Number(/queued=(\d+)/.exec(String(ws))?.[1]);
    if (queued >= n) return;
    await sleep(0.01);
  }
  assert.fail(`fewer than ${n} messages were queued after 20 s: ${String(ws)}`);
}

void test("a reader that always finds messages queued still lets other tasks run (the fast-path budget)", async () => {
  await run(async () => {
    const count = 3000;
    await using server = await serve(async (ws) => {
      for (let i = 0; i < count; i++) await ws.send(`m${i}`);
      await ws.recv();
    }, "127.0.0.1", 0, { compression: null });
    await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`, { compression: null, maxQueue: count + 10 });
    await queuedAtLeast(ws, count);
    let ticks = 0;
    const ticker = createTask(async () => {
      for (;;) {
        ticks++;
        await sleep(0);
      }
    });
    // Every recv() below finds its message buffered and completes without suspending; without the
    // budget the ticker would not run once before the loop ends.
    for (let i = 0; i < count; i++) assert.equal(await ws.recv(), `m${i}`);
    const ticksDuringLoop = ticks;
    ticker.cancel();
    await assert.rejects(ticker, CancelledError);
    assert.ok(ticksDuringLoop >= 1, `the ticker ran ${ticksDuringLoop} times while ${count} buffered messages were read`);
    await ws.send("done");
  });
});

void test("a cancelled for-await step or a recv() that timed out loses no message", async () => {
  await run(async () => {
    const go = flag();
    await using server = await serve(async (ws) => {
      await go.wait();
      await ws.send("first");
      await ws.send("second");
      await ws.recv();
    }, "127.0.0.1", 0);
    await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`);
    const seen: unknown[] = [];
    const iterating = createTask(async () => {
      for await (const message of ws) seen.push(message);
    });
    await sleep(0.02);
    iterating.cancel();
    await assert.rejects(iterating, CancelledError);
    await assert.rejects(timeout(0.02, () => ws.recv()), TimeoutError);
    go.set();
    assert.equal(await ws.recv(), "first");
    const rest: unknown[] = [];
    for await (const message of ws) {
      rest.push(message);
      break;
    }
    assert.deepEqual(rest, ["second"]);
    assert.deepEqual(seen, []);
    await ws.send("bye");
  });
});

for (const compression of [null, "deflate"] as const) {
  void test(`server messages of every frame-length class arrive intact and in order (compression ${compression ?? "off"})`, async () => {
    await run(async () => {
      const sizes = [0, 1, 125, 126, 127, 65535, 65536, 100_000];
      const expected: (string | Buffer)[] = [];
      for (const n of sizes) expected.push(textOfBytes(n), Buffer.alloc(n, n % 251));
      expected.push("after the fragments");
      await using server = await serve(async (ws) => {
        // Whole messages (framed by aiots when uncompressed), then a fragmented one and a ping
        // (framed by ws), then a whole message again: one ordered stream of frames.
        for (const message of expected.slice(0, -1)) await ws.send(message);
        await ws.send(["frag", "mented"]);
        const pong = ws.ping("p");
        await ws.send(expected.at(-1)!);
        await pong;
        await ws.recv();
      }, "127.0.0.1", 0, { compression, maxSize: null });
      await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`, { compression, maxSize: null });
      assert.equal(ws.extensions.includes("permessage-deflate"), compression !== null);
      for (const [i, want] of expected.slice(0, -1).entries()) {
        const got = await ws.recv();
        if (typeof want === "string") {
          assert.equal(typeof got, "string", `message ${i} is text`);
          assert.equal(Buffer.byteLength(got as string), Buffer.byteLength(want), `message ${i}: its length in bytes`);
          assert.ok(got === want, `message ${i}: text of ${Buffer.byteLength(want)} bytes arrives unchanged`);
        } else {
          assert.ok(Buffer.isBuffer(got), `message ${i} is binary`);
          assert.ok(want.equals(got), `message ${i}: ${want.length} bytes arrive unchanged`);
        }
      }
      assert.equal(await ws.recv(), "fragmented");
      assert.equal(await ws.recv(), "after the fragments");
      await ws.send("done");
    });
  });
}
