import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  run,
  createTask,
  sleep,
  timeout,
  getRunningLoop,
  openConnection,
  startServer,
  openUnixConnection,
  startUnixServer,
  StreamReader,
  StreamWriter,
  IncompleteReadError,
  CancelledError,
  TimeoutError,
  type Server,
} from "../../src/index.ts";
import { captureLoopErrors } from "../helpers/index.ts";
import { addressOf, selfSignedCert, tempDir } from "../helpers/net.ts";

async function echoServer(): Promise<Server> {
  return startServer(async (reader, writer) => {
    for (;;) {
      const data = await reader.read(65536);
      if (data.length === 0) break;
      writer.write(data);
      await writer.drain();
    }
    writer.close();
  }, "127.0.0.1", 0);
}

void test("openConnection/startServer: lines round-trip, EOF, waitClosed", async () => {
  await run(async () => {
    await using server = await echoServer();
    const [host, port] = addressOf(server);
    const [reader, writer] = await openConnection(host, port);
    assert.ok(reader instanceof StreamReader);
    assert.ok(writer instanceof StreamWriter);
    writer.writeLines([Buffer.from("one\n"), Buffer.from("two\n")]);
    await writer.drain();
    assert.equal((await reader.readLine()).toString(), "one\n");
    assert.equal((await reader.readExactly(4)).toString(), "two\n");
    assert.deepEqual(writer.getExtraInfo("peername"), [host, port]);
    assert.equal((writer.getExtraInfo("sockname") as [string, number])[0], "127.0.0.1");
    assert.equal(writer.canWriteEof(), true);
    writer.writeEof();
    assert.equal((await reader.read()).length, 0);
    assert.equal(reader.atEof(), true);
    writer.close();
    assert.equal(writer.isClosing(), true);
    await writer.waitClosed();
  });
});

void test("a large message (1 MiB) goes through with every byte intact", async () => {
  await run(async () => {
    await using server = await echoServer();
    const [reader, writer] = await openConnection(...addressOf(server));
    const payload = Buffer.alloc(1 << 20);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const sender = createTask(async () => {
      writer.write(payload);
      await writer.drain();
    });
    const got = await reader.readExactly(payload.length);
    await sender;
    assert.ok(got.equals(payload));
    await writer[Symbol.asyncDispose]();
  });
});

void test("slow reader: drain() waits, and the write buffer never exceeds the high-water mark by more than one write", async () => {
  await run(async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let received = 0;
    await using server = await startServer(async (reader, writer) => {
      await gate; // read nothing for a while: the client's writes back up
      for (;;) {
        const data = await reader.read(65536);
        if (data.length === 0) break;
        received += data.length;
        await sleep(0);
      }
      writer.close();
    }, "127.0.0.1", 0, { limit: 16 * 1024 });
    const [, writer] = await openConnection(...addressOf(server));
    const high = 32 * 1024;
    writer.transport.setWriteBufferLimits(high);
    const chunk = Buffer.alloc(16 * 1024, 7);
    let maxBuffered = 0;
    let drainWaited = false;
    // The kernel's socket buffers absorb several MiB first; write until drain() has had to wait,
    // then a little more. Bounded, so a broken drain() fails instead of looping forever.
    let total = 0;
    let after = 0;
    while (total < 4000 && after < 50) {
      writer.write(chunk);
      total++;
      if (drainWaited) after++;
      maxBuffered = Math.max(maxBuffered, writer.transport.getWriteBufferSize());
      if (writer.transport.getWriteBufferSize() > high && !drainWaited) {
        // The peer reads nothing yet, so this drain() must wait; let the peer start reading soon.
        drainWaited = true;
        getRunningLoop().callLater(0.05, release);
      }
      await writer.drain();
    }
    assert.ok(drainWaited, "drain() must have waited while the peer was not reading");
    assert.ok(maxBuffered <= high + chunk.length, `buffer reached ${maxBuffered} > ${high} + ${chunk.length}`);
    writer.writeEof();
    await writer.waitClosed();
    assert.equal(received, total * chunk.length);
  });
});

void test("faults: refused connection, unknown host, early EOF, write after close", async () => {
  await run(async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(openConnection("127.0.0.1", port), (e: NodeJS.ErrnoException) => e.code === "ECONNREFUSED" && e.message.includes(String(port)));
    await assert.rejects(openConnection("no-such-host.invalid", 80), (e: NodeJS.ErrnoException) => /ENOTFOUND|EAI_AGAIN/.test(e.code ?? "") && e.message.includes("no-such-host.invalid"));

    await using server = await startServer(async (_r, w) => {
      w.write(Buffer.from("abc"));
      w.close();
      await w.waitClosed();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection(...addressOf(server));
    const error = await reader.readExactly(10).catch((e: unknown) => e);
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.partial.toString(), "abc");
    writer.close();
    await writer.waitClosed();
    writer.write(Buffer.from("dropped")); // asyncio: writes after close are dropped
    await assert.rejects(writer.drain(), (e: Error) => e.message === "Connection lost");
    assert.throws(() => writer.write("text" as unknown as Buffer), TypeError);
  });
});

void test("a peer that resets mid-write: drain and reads fail with the reset, no hang, no unhandled error", async () => {
  await run(async () => {
    const errors = captureLoopErrors();
    await using server = await startServer(async (r, w) => {
      await r.readExactly(1);
      (w.getExtraInfo("socket") as net.Socket).resetAndDestroy();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection(...addressOf(server));
    writer.write(Buffer.from("x"));
    const big = Buffer.alloc(256 * 1024);
    const outcome = await (async () => {
      for (let i = 0; i < 200; i++) {
        writer.write(big);
        await writer.drain();
        await sleep(0.001);
      }
      return "no error";
    })().catch((e: unknown) => e);
    assert.ok(outcome instanceof Error, `expected an error, got ${String(outcome)}`);
    assert.match((outcome as NodeJS.ErrnoException).code ?? outcome.message, /ECONNRESET|EPIPE|Connection lost/);
    await assert.rejects(reader.read(1));
    await assert.rejects(writer.waitClosed());
    assert.deepEqual(errors, []);
  });
});

void test("connect, read and drain are interrupted by cancellation and timeout()", async () => {
  await run(async () => {
    await using server = await startServer(async (reader, writer) => {
      await reader.read(); // never replies
      writer.close();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection(...addressOf(server));
    await assert.rejects(timeout(0.02, () => reader.readLine()), TimeoutError);
    const task = createTask(() => reader.read(10));
    await sleep(0.005);
    task.cancel();
    await assert.rejects(task, CancelledError);
    writer.transport.setWriteBufferLimits(1);
    writer.write(Buffer.alloc(64 * 1024 * 1024));
    await assert.rejects(timeout(0.02, () => writer.drain()), TimeoutError);
    writer.transport.abort();
  });
});

void test("a connect stuck in its TLS handshake is interrupted by cancellation, and its socket closed", async () => {
  await run(async () => {
    // A plain TCP server that never answers the ClientHello.
    const closed: Promise<void>[] = [];
    const silent = net.createServer((socket) => {
      socket.resume(); // discard what arrives, so the client's close is seen
      closed.push(new Promise((resolve) => socket.on("close", () => resolve())));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const connect = createTask(() => openConnection("127.0.0.1", port, { ssl: true, serverHostname: "localhost" }));
    while (closed.length === 0) await sleep(0.002);
    connect.cancel();
    await assert.rejects(connect, CancelledError);
    await closed[0]; // the client destroyed its socket
    await assert.rejects(timeout(0.02, () => openConnection("127.0.0.1", port, { ssl: true, serverHostname: "localhost" })), TimeoutError);
    await assert.rejects(
      openConnection("127.0.0.1", port, { ssl: true, serverHostname: "localhost", sslHandshakeTimeout: 0.02 }),
      (e: Error) => e.name === "ConnectionAbortedError" && e.message.includes(`127.0.0.1:${port}`),
    );
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});

void test("an error in the client callback is reported and closes that connection only", async () => {
  await run(async () => {
    const errors = captureLoopErrors();
    await using server = await startServer(async (reader, writer) => {
      const line = await reader.readLine();
      if (line.toString() === "boom\n") throw new Error("handler failed");
      writer.write(line);
      await writer.drain();
    }, "127.0.0.1", 0);
    const [r1, w1] = await openConnection(...addressOf(server));
    w1.write(Buffer.from("boom\n"));
    assert.equal((await r1.read()).length, 0, "the failing connection is closed");
    assert.equal(errors.length, 1);
    assert.equal((errors[0]!.exception as Error).message, "handler failed");
    const [r2, w2] = await openConnection(...addressOf(server));
    w2.write(Buffer.from("fine\n"));
    assert.equal((await r2.readLine()).toString(), "fine\n");
    w1.close();
    w2.close();
  });
});

void test("Unix sockets: startUnixServer/openUnixConnection; getsockname is the path", async () => {
  const dir = tempDir();
  try {
    await run(async () => {
      const path = join(dir, "s.sock");
      await using server = await startUnixServer(async (reader, writer) => {
        writer.write(await reader.readLine());
        writer.close();
      }, path);
      assert.equal(server.sockets[0]!.getsockname(), path);
      const [reader, writer] = await openUnixConnection(path);
      assert.equal(writer.getExtraInfo("peername"), path);
      writer.write(Buffer.from("over unix\n"));
      assert.equal((await reader.readLine()).toString(), "over unix\n");
      writer.close();
      await assert.rejects(openUnixConnection(join(dir, "missing.sock")), /ENOENT.*missing\.sock|missing\.sock.*ENOENT/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("TLS: ssl option with a self-signed cert, peercert/cipher extra info, handshake failure names the peer", async () => {
  const { key, cert } = selfSignedCert();
  await run(async () => {
    await using server = await startServer(async (reader, writer) => {
      writer.write(await reader.readLine());
      await writer.drain();
      writer.close();
    }, "127.0.0.1", 0, { ssl: { key, cert } });
    const [host, port] = addressOf(server);
    const [reader, writer] = await openConnection(host, port, { ssl: { ca: cert }, serverHostname: "localhost" });
    assert.equal(writer.canWriteEof(), false);
    assert.ok(writer.getExtraInfo("cipher")?.name);
    assert.equal(writer.getExtraInfo("peercert")?.subject?.CN, "localhost");
    assert.ok(writer.getExtraInfo("sslcontext"));
    writer.write(Buffer.from("secret\n"));
    assert.equal((await reader.readLine()).toString(), "secret\n");
    assert.equal((await reader.read()).length, 0);
    writer.close();
    // The default (ssl: true) verifies against the system CAs: the self-signed cert fails.
    await assert.rejects(openConnection(host, port, { ssl: true, serverHostname: "localhost" }), (e: Error) => e.message.includes(`${host}:${port}`) && /certificate/i.test(e.message));
  });
});

void test("StreamWriter.startTls upgrades a plain connection (STARTTLS)", async () => {
  const { key, cert } = selfSignedCert();
  await run(async () => {
    await using server = await startServer(async (reader, writer) => {
      assert.equal((await reader.readLine()).toString(), "STARTTLS\n");
      writer.write(Buffer.from("GO\n"));
      await writer.drain();
      await writer.startTls({ key, cert });
      writer.write(Buffer.from(`tls:${(await reader.readLine()).toString()}`));
      await writer.drain();
      writer.close();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection(...addressOf(server));
    writer.write(Buffer.from("STARTTLS\n"));
    assert.equal((await reader.readLine()).toString(), "GO\n");
    await writer.startTls({ ca: cert }, { serverHostname: "localhost" });
    assert.ok(writer.getExtraInfo("cipher"));
    writer.write(Buffer.from("hi\n"));
    assert.equal((await reader.readLine()).toString(), "tls:hi\n");
    writer.close();
  });
});

void test("the limit option reaches server-side readers", async () => {
  await run(async () => {
    let seen = 0;
    await using server = await startServer((reader, writer) => {
      seen = reader.limit;
      writer.close();
    }, "127.0.0.1", 0, { limit: 1234 });
    const [reader, writer] = await openConnection(...addressOf(server), { limit: 99 });
    assert.equal(reader.limit, 99);
    await reader.read();
    writer.close();
    assert.equal(seen, 1234);
    assert.equal(getRunningLoop().isRunning(), true);
  });
});

void test("a TCP connect that never completes (full backlog) is interrupted by cancellation and timeout()", { skip: process.platform !== "linux" }, async () => {
  const { spawn } = await import("node:child_process");
  // A listener that never accepts, with the smallest backlog: once it is full, SYNs are dropped.
  const py = spawn("/usr/bin/python3", ["-c", "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)"], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const port = Number(await new Promise<string>((resolve, reject) => {
      py.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()));
      py.once("error", reject);
    }));
    const fillers: net.Socket[] = [];
    await run(async () => {
      // Fill the backlog: connect until a connect stays pending.
      for (let i = 0; i < 16; i++) {
        const s = net.connect(port, "127.0.0.1");
        s.on("error", () => undefined);
        fillers.push(s);
        const connected = getRunningLoop().createFuture<boolean>();
        s.once("connect", () => connected.setResult(true));
        const ok = await timeout(0.2, async () => await connected).catch(() => false);
        if (!ok) break;
      }
      const task = createTask(() => openConnection("127.0.0.1", port));
      await sleep(0.05);
      task.cancel();
      await assert.rejects(task, CancelledError);
      await assert.rejects(timeout(0.05, () => openConnection("127.0.0.1", port)), TimeoutError);
    });
    for (const s of fillers) s.destroy();
  } finally {
    py.kill();
  }
});
