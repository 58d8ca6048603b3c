import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createNetServer, type Socket } from "node:net";
import { CancelledError, createTask, run, sleep } from "../../src/index.ts";
import { connect, ConnectionClosedError, InvalidStatus, serve, type WebSocket, type WebSocketServer } from "../../src/ws.ts";

function portOf(server: WebSocketServer): number {
  return (server.sockets[0]!.getsockname() as [string, number])[1];
}

function socketOf(ws: WebSocket): Socket {
  return (ws.raw as unknown as { _socket: Socket })._socket;
}

async function echo(ws: WebSocket): Promise<void> {
  for await (const message of ws) await ws.send(message);
}

void test("an oversized message closes with 1009 and both ends report 1009, with the cause", async () => {
  await run(async () => {
    let serverSide: WebSocket | null = null;
    await using server = await serve(async (ws) => {
      serverSide = ws;
      await echo(ws);
    }, "127.0.0.1", 0, { maxSize: 1000 });
    await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`);
    await ws.send("x".repeat(1001));
    const error = await ws.recv().then(() => null, (e: unknown) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.code, 1009);
    assert.equal(ws.closeCode, 1009);
    while (serverSide === null || (serverSide as WebSocket).closeCode === null) await sleep(0.005);
    assert.equal((serverSide as WebSocket).closeCode, 1009);
  });
});

void test("pong(data) sends an unsolicited pong; ping() matches by payload and updates latency", async () => {
  await run(async () => {
    const pongs: string[] = [];
    await using server = await serve(async (ws) => {
      ws.raw.on("pong", (data: Buffer) => pongs.push(data.toString()));
      await echo(ws);
    }, "127.0.0.1", 0);
    await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`, { pingInterval: null });
    assert.equal(ws.latency, 0);
    await ws.pong("heartbeat");
    await ws.pong();
    await ws.send("sync");
    await ws.recv();
    assert.deepEqual(pongs, ["heartbeat", ""]);
    const rtt = await ws.ping("p1");
    assert.ok(rtt > 0 && rtt < 5, `rtt ${rtt}`);
    assert.equal(ws.latency, rtt);
    const first = ws.ping("same");
    await assert.rejects(ws.ping("same"), /already waiting/);
    await first;
    await assert.rejects(ws.pong("x".repeat(126)), RangeError);
  });
});

void test("keepalive pings measure ws.latency", async () => {
  await run(async () => {
    await using server = await serve(echo, "127.0.0.1", 0, { pingInterval: null });
    await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`, { pingInterval: 0.02, pingTimeout: 5 });
    for (let i = 0; i < 500 && ws.latency === 0; i++) await sleep(0.01);
    assert.ok(ws.latency > 0 && ws.latency < 5, `latency ${ws.latency}`);
    assert.equal(ws.state, "open");
  });
});

void test("send(asyncIterable) sends one fragmented message; other sends wait for its end", async () => {
  await run(async () => {
    await using server = await serve(echo, "127.0.0.1", 0, { compression: null });
    await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`, { compression: null });
    async function* parts(): AsyncGenerator<string> {
      yield "Hello, ";
      await sleep(0.02);
      yield "frag";
      await sleep(0.02);
      yield "mented!";
    }
    const fragmented = createTask(() => ws.send(parts()));
    await sleep(0.005);
    const other = createTask(() => ws.send("after"));
    await fragmented;
    await other;
    assert.equal(await ws.recv(), "Hello, fragmented!");
    assert.equal(await ws.recv(), "after");
    await ws.send([Buffer.from([1, 2]), Buffer.from([3])]); // a sync iterable of bytes
    assert.deepEqual(await ws.recv(), Buffer.from([1, 2, 3]));
    await ws.send([]); // nothing at all
    await ws.send("next");
    assert.equal(await ws.recv(), "next");
    await assert.rejects(ws.send(42 as never), TypeError);
  });
});

void test("a fragmented message that cannot be finished (mixed types, the iterable throws) closes with 1011", async () => {
  await run(async () => {
    await using server = await serve(echo, "127.0.0.1", 0);
    const url = `ws://127.0.0.1:${portOf(server)}/`;
    await using mixed = await connect(url);
    await assert.rejects(mixed.send(["text", Buffer.from([1])]), /all strings .* or all Uint8Arrays/);
    await mixed.waitClosed();
    assert.equal(mixed.closeCode, 1011);
    await using failing = await connect(url);
    async function* broken(): AsyncGenerator<string> {
      yield "start";
      throw new Error("source failed");
    }
    await assert.rejects(failing.send(broken()), /source failed/);
    await failing.waitClosed();
    assert.equal(failing.closeCode, 1011);
  });
});

void test("a send() loop against a peer that reset the connection ends with ConnectionClosedError", async () => {
  await run(async () => {
    // Client sends, server resets.
    await using server = await serve(async (ws) => {
      await ws.recv();
      socketOf(ws).resetAndDestroy();
    }, "127.0.0.1", 0);
    await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`);
    await ws.send("go");
    await sleep(0.05); // the RST has arrived; nothing has read it yet
    let sends = 0;
    const chunk = "x".repeat(1024);
    const error = await (async () => {
      for (; sends < 100_000; sends++) await ws.send(chunk);
      return null;
    })().catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionClosedError, `got ${String(error)} after ${sends} sends`);
    assert.ok(sends < 100, `ended after ${sends} sends`);
    assert.equal(error.code, 1006);

    // Server sends, client resets: the handler's loop ends too.
    let serverSends = -1;
    let serverError: unknown = null;
    await using server2 = await serve(async (ws) => {
      await ws.recv();
      let n = 0;
      try {
        for (; n < 100_000; n++) await ws.send(chunk);
      } catch (e) {
        serverError = e;
      } finally {
        serverSends = n;
      }
    }, "127.0.0.1", 0);
    const ws2 = await connect(`ws://127.0.0.1:${portOf(server2)}/`);
    await ws2.send("go");
    await ws2.recv(); // the server is in its send loop
    socketOf(ws2).resetAndDestroy();
    for (let i = 0; i < 500 && serverSends < 0; i++) await sleep(0.01);
    assert.ok(serverError instanceof ConnectionClosedError || serverError instanceof CancelledError, String(serverError));
    assert.ok(serverSends >= 0 && serverSends < 100_000, `server ended after ${serverSends} sends`);
  });
});

void test("a send() loop that never has to wait still lets other tasks run", async () => {
  await run(async () => {
    await using server = await serve(async (ws) => {
      for await (const _ of ws) {
        // drain
      }
    }, "127.0.0.1", 0, { compression: null });
    await using ws = await connect(`ws://127.0.0.1:${portOf(server)}/`, { compression: null });
    let ticks = 0;
    const ticker = createTask(async () => {
      for (;;) {
        ticks++;
        await sleep(0);
      }
    });
    for (let i = 0; i < 2000; i++) await ws.send("y".repeat(512));
    ticker.cancel();
    assert.ok(ticks > 5, `the other task ran ${ticks} times`);
  });
});

void test("for await (const ws of connect(url)) reconnects with backoff after transient failures", async () => {
  await run(async () => {
    // A free port with nothing listening: the first attempts are refused.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    let accepted = 0;
    let server: WebSocketServer | null = null;
    const starter = createTask(async () => {
      await sleep(0.15);
      server = await serve(async (ws) => {
        accepted++;
        await ws.send(`hello ${accepted}`);
        // The client acknowledges before the drop: a reset may discard data the client has not
        // read yet, and on a loaded machine no fixed sleep is long enough.
        await ws.recv();
        if (accepted === 1) ws.abort(); // a dropped connection: the client loops round
        else await ws.close(1000);
      }, "127.0.0.1", port);
    });
    const got: string[] = [];
    const started = Date.now();
    try {
      for await (const ws of connect(`ws://127.0.0.1:${port}/`, { backoff: { initialDelay: 0.01, minDelay: 0.02, maxDelay: 0.05 } })) {
        try {
          for await (const message of ws) {
            got.push(message as string);
            await ws.send("ack");
          }
        } catch (error) {
          if (!(error instanceof ConnectionClosedError)) throw error;
          got.push(`lost ${error.code}`);
          continue;
        }
        break;
      }
      assert.deepEqual(got, ["hello 1", "lost 1006", "hello 2"]);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      // Closed even when an assertion fails, so that a failure cannot leave the file hanging.
      await starter;
      const listening = server as WebSocketServer | null;
      if (listening !== null) {
        listening.close();
        await listening.waitClosed();
      }
    }

    // A permanent failure (404-like status) is thrown, not retried.
    await using refusing = await serve(() => {}, "127.0.0.1", 0, { processRequest: () => new (class extends Error {})() as never });
    let attempts = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of connect(`ws://127.0.0.1:${portOf(refusing)}/`, { processException: (e) => (attempts++, e as Error) })) {
          // never
        }
      })(),
      (e: unknown) => e instanceof InvalidStatus && e.status === 500,
    );
    assert.equal(attempts, 1);
    // await connect() keeps its meaning: one connection, the same one on every await.
    await using once = await serve(echo, "127.0.0.1", 0);
    const pending = connect(`ws://127.0.0.1:${portOf(once)}/`);
    const a = await pending;
    const b = await pending;
    assert.equal(a, b);
    await a.close();
  });
});
