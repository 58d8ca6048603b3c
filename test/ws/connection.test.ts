import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect, createServer as createNetServer } from "node:net";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { WebSocketServer } from "ws";
import { CancelledError, TimeoutError, createTask, run, sleep } from "../../src/index.ts";
import { Application } from "../../src/http.ts";
import { ConnectionClosedError, ConnectionClosedOK, InvalidStatus, connect, type WebSocket } from "../../src/ws.ts";
import { captureLoopErrors, rejection } from "../helpers/index.ts";
import { flag, otherTasks, serveApp, tcpHandles, tcpHandlesSettled } from "../helpers/http.ts";

function echoApp(): Application {
  const app = new Application();
  app.websocket("/echo", async (_request, ws) => {
    for await (const message of ws) await ws.send(message);
  });
  return app;
}

void test("echo: text stays text, bytes stay bytes; for await ends on a normal close", async () => {
  await run(async () => {
    await using served = await serveApp(echoApp());
    const ws = await connect(`${served.wsUrl}/echo`);
    await ws.send("hello");
    assert.equal(await ws.recv(), "hello");
    await ws.send(Buffer.from([1, 2, 3]));
    assert.deepEqual(await ws.recv(), Buffer.from([1, 2, 3]));
    await ws.close();
    assert.equal(ws.closeCode, 1000);
    assert.equal(ws.state, "closed");
    await assert.rejects(ws.send("late"), ConnectionClosedOK);
    await assert.rejects(ws.recv(), ConnectionClosedOK);
  });
});

void test("the server's normal close ends the client's for await; handler return closes with 1000", async () => {
  await run(async () => {
    const app = new Application();
    app.websocket("/feed/:n", async (request, ws) => {
      for (let i = 0; i < Number(request.params.n); i++) await ws.send(`tick ${i}`);
    });
    await using served = await serveApp(app);
    await using ws = await connect(`${served.wsUrl}/feed/3`);
    const got: string[] = [];
    for await (const message of ws) got.push(message as string);
    assert.deepEqual(got, ["tick 0", "tick 1", "tick 2"]);
    assert.equal(ws.closeCode, 1000);
  });
});

void test("a close from the peer is answered with the same code; the handler sees code and reason", async () => {
  await run(async () => {
    const app = new Application();
    const seen = flag();
    let serverSide: { code: number; reason: string } | null = null;
    app.websocket("/c", async (_request, ws) => {
      try {
        for await (const _ of ws) {
          // drain
        }
      } catch (error) {
        if (error instanceof ConnectionClosedError) serverSide = { code: error.code, reason: error.reason };
        throw error;
      } finally {
        seen.set();
      }
    });
    await using served = await serveApp(app);
    const ws = await connect(`${served.wsUrl}/c`);
    await ws.close(4000, "bye");
    assert.equal(ws.closeCode, 4000, "the server echoed our code");
    assert.equal(ws.closeReason, "bye");
    await seen.wait();
    assert.deepEqual(serverSide, { code: 4000, reason: "bye" });
  });
});

void test("subprotocols: the route's first protocol the client offers is chosen", async () => {
  await run(async () => {
    const app = new Application();
    app.websocket("/p", async (_request, ws) => ws.send(ws.subprotocol), { subprotocols: ["chat.v2", "chat.v1"] });
    await using served = await serveApp(app);
    await using a = await connect(`${served.wsUrl}/p`, { subprotocols: ["chat.v1", "chat.v2"] });
    assert.equal(a.subprotocol, "chat.v2");
    assert.equal(await a.recv(), "chat.v2");
    await using b = await connect(`${served.wsUrl}/p`);
    assert.equal(b.subprotocol, "");
    // Offered, none shared: the server picks none and the client refuses the connection.
    await assert.rejects(connect(`${served.wsUrl}/p`, { subprotocols: ["other"] }), /no subprotocol/);
  });
});

void test("a message over maxSize closes with 1009; an unknown route is refused with 404", async () => {
  await run(async () => {
    const app = new Application();
    app.websocket("/small", async (_request, ws) => void (await ws.recv()), { maxSize: 10 });
    await using served = await serveApp(app);
    const ws = await connect(`${served.wsUrl}/small`);
    await ws.send("x".repeat(11));
    await ws.waitClosed();
    assert.equal(ws.closeCode, 1009);
    const refused = await rejection(connect(`${served.wsUrl}/missing`));
    assert.ok(refused instanceof InvalidStatus);
    assert.equal(refused.status, 404);
  });
});

void test("a handler error closes with 1011 and is logged once", async () => {
  await run(async () => {
    const errors = captureLoopErrors();
    const app = new Application();
    app.websocket("/bad", () => {
      throw new Error("handler broke");
    });
    await using served = await serveApp(app);
    const ws = await connect(`${served.wsUrl}/bad`);
    await ws.waitClosed();
    assert.equal(ws.closeCode, 1011);
    assert.equal(errors.length, 1);
    assert.equal((errors[0]!.exception as Error).message, "handler broke");
  });
});

void test("a cancelled recv() loses no message; a second concurrent recv() is refused", async () => {
  await run(async () => {
    const app = new Application();
    const go = flag();
    app.websocket("/later", async (_request, ws) => {
      await go.wait();
      await ws.send("kept");
      await ws.recv();
    });
    await using served = await serveApp(app);
    await using ws = await connect(`${served.wsUrl}/later`);
    const waiting = createTask(() => ws.recv());
    await sleep(0.01);
    await assert.rejects(ws.recv(), /another recv\(\) is already waiting/);
    waiting.cancel();
    await assert.rejects(waiting, CancelledError);
    go.set();
    assert.equal(await ws.recv(), "kept");
  });
});

void test("send() waits while the peer does not read (bounded buffer) and is cancellable", async () => {
  await run(async () => {
    const app = new Application();
    const release = flag();
    app.websocket("/sink", async () => release.wait(), { maxSize: null });
    await using served = await serveApp(app);
    // Uncompressed and random: compressed zeros are a few hundred bytes on the wire, so the kernel's
    // buffers would hold every message and the sender would never wait.
    const ws = await connect(`${served.wsUrl}/sink`, { highWaterMark: 64 * 1024, compression: null });
    const chunk = randomBytes(256 * 1024);
    let sent = 0;
    const sender = createTask(async () => {
      // 1,000 messages are 256 MiB: far more than the socket buffers and the server's queue can hold.
      for (let i = 0; i < 1000; i++) {
        await ws.send(chunk);
        sent++;
      }
    });
    await sleep(0.3);
    assert.equal(sender.done(), false, "the sender is blocked by backpressure");
    assert.ok(sent < 1000, `sent ${sent}`);
    assert.ok(ws.bufferedAmount <= 64 * 1024 + chunk.length, `buffered ${ws.bufferedAmount} bytes`);
    sender.cancel();
    await assert.rejects(sender, CancelledError);
    release.set();
    ws.abort();
    await ws.waitClosed();
  });
});

void test("keepalive: no pong within pingTimeout closes the connection with 1011", async () => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", autoPong: false });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  const { port } = wss.address() as AddressInfo;
  try {
    await run(async () => {
      const ws = await connect(`ws://127.0.0.1:${port}`, { pingInterval: 0.05, pingTimeout: 0.05 });
      await ws.waitClosed();
      assert.equal(ws.closeCode, 1011);
      assert.match(String(ws), /closed code=1011/);
    });
  } finally {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
});

void test("an invalid frame (unmasked from a client) is closed with 1002; nothing leaks", async () => {
  await run(async () => {
    const before = tcpHandles();
    const app = echoApp();
    const served = await serveApp(app);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const socket = netConnect(served.port, "127.0.0.1");
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.includes("\r\n\r\n") && !socket.writableEnded) {
          socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // "hi", unmasked: a protocol error
        }
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(chunks)));
      socket.write(
        "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    const headEnd = reply.indexOf("\r\n\r\n") + 4;
    assert.match(reply.subarray(0, headEnd).toString(), /^HTTP\/1\.1 101 /);
    const frame = reply.subarray(headEnd);
    assert.equal(frame[0], 0x88, "a close frame");
    assert.equal(frame.readUInt16BE(2), 1002);
    served.server.close();
    await served.server.waitClosed();
    assert.equal(otherTasks(), 0);
    assert.equal(await tcpHandlesSettled(before), before);
  });
});

void test("server close() sends 1001 to open WebSockets and waits for their handlers", async () => {
  await run(async () => {
    const app = echoApp();
    const served = await serveApp(app);
    const clients: WebSocket[] = [];
    for (let i = 0; i < 3; i++) clients.push(await connect(`${served.wsUrl}/echo`));
    served.server.close();
    await served.server.waitClosed();
    for (const ws of clients) {
      await ws.waitClosed();
      assert.equal(ws.closeCode, 1001);
    }
    assert.equal(otherTasks(), 0);
  });
});

void test("connect() errors: bad scheme, refused, open timeout", async () => {
  await run(async () => {
    await assert.rejects(connect("http://127.0.0.1/"), /ws: or wss: URL/);
    await assert.rejects(connect("ws://127.0.0.1:1/"), /ECONNREFUSED/);
    // A TCP server that reads but never answers the handshake.
    const server = createNetServer((socket) => socket.resume());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const error = await rejection(connect(`ws://127.0.0.1:${port}/`, { openTimeout: 0.05 }));
    assert.ok(error instanceof TimeoutError, String(error));
    await new Promise((resolve) => server.close(resolve));
  });
});
