import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { once } from "node:events";
import { run, getRunningLoop, createTask, sleep, Server, CancelledError, timeout, TimeoutError } from "../../src/index.ts";

async function listening(server: net.Server, path?: string): Promise<void> {
  if (path === undefined) server.listen(0, "127.0.0.1");
  else server.listen(path);
  await once(server, "listening");
}

function connect(port: number): net.Socket {
  return net.connect(port, "127.0.0.1");
}

void test("wrapping a net.Server: sockets, getsockname, close and waitClosed track raw clients", async () => {
  await run(async () => {
    const netServer = net.createServer((s) => s.pipe(s));
    await listening(netServer);
    const server = new Server(getRunningLoop(), [netServer]);
    assert.equal(server.isServing(), true);
    const name = server.sockets[0]!.getsockname() as [string, number];
    assert.equal(name[0], "127.0.0.1");
    assert.ok(name[1] > 0);
    const client = connect(name[1]);
    await once(client, "connect");
    while (server.activeCount === 0) await sleep(0.001);
    server.close();
    assert.deepEqual(server.sockets, []);
    assert.equal(server.isServing(), false);
    let closed = false;
    const waiter = createTask(async () => {
      await server.waitClosed();
      closed = true;
    });
    await sleep(0.01);
    assert.equal(closed, false, "waitClosed must wait for the open client");
    server.closeClients();
    await waiter;
    assert.equal(closed, true);
    client.destroy();
    assert.match(String(server), /<Server closed/);
  });
});

void test("abortClients resets connections", async () => {
  await run(async () => {
    const netServer = net.createServer(() => undefined);
    await listening(netServer);
    const server = new Server(getRunningLoop(), [netServer]);
    const [, port] = server.sockets[0]!.getsockname() as [string, number];
    const client = connect(port);
    const ended = once(client, "close");
    await once(client, "connect");
    while (server.activeCount === 0) await sleep(0.001);
    server.close();
    server.abortClients();
    await server.waitClosed();
    await ended;
    assert.equal(server.activeCount, 0);
  });
});

void test("startServing: false holds connections until startServing()", async () => {
  await run(async () => {
    const netServer = net.createServer();
    await listening(netServer);
    const seen: net.Socket[] = [];
    const server = new Server(getRunningLoop(), [netServer], {
      startServing: false,
      onConnection: (socket) => {
        seen.push(socket);
        socket.destroy();
      },
    });
    assert.equal(server.isServing(), false);
    const [, port] = server.sockets[0]!.getsockname() as [string, number];
    const client = connect(port);
    await once(client, "connect");
    await sleep(0.02);
    assert.equal(seen.length, 0);
    await server.startServing();
    assert.equal(seen.length, 1);
    client.destroy();
    await server[Symbol.asyncDispose]();
  });
});

void test("serveForever ends with CancelledError and closes the server", async () => {
  await run(async () => {
    const netServer = net.createServer();
    await listening(netServer);
    const server = new Server(getRunningLoop(), [netServer]);
    const task = createTask(() => server.serveForever());
    await sleep(0.01);
    await assert.rejects(server.serveForever(), /already being awaited/);
    task.cancel();
    await assert.rejects(task, CancelledError);
    assert.equal(server.isServing(), false);
    assert.equal(netServer.listening, false);
    await assert.rejects(server.serveForever(), /closed/);
  });
});

void test("waitClosed is interrupted by timeout()", async () => {
  await run(async () => {
    const netServer = net.createServer();
    await listening(netServer);
    const server = new Server(getRunningLoop(), [netServer]);
    await assert.rejects(timeout(0.01, () => server.waitClosed()), TimeoutError);
    server.close();
    await server.waitClosed();
  });
});

void test("Unix socket servers report their path", { skip: process.platform === "win32" }, async () => {
  await run(async () => {
    const path = `/tmp/aiots-servers-${process.pid}.sock`;
    const netServer = net.createServer();
    await listening(netServer, path);
    const server = new Server(getRunningLoop(), [netServer]);
    assert.equal(server.sockets[0]!.getsockname(), path);
    assert.equal(server.sockets[0]!.family, "unix");
    await server[Symbol.asyncDispose]();
  });
});

void test("constructor rejects what is not a list of servers", async () => {
  await run(() => {
    assert.throws(() => new Server(getRunningLoop(), [{} as net.Server]), TypeError);
    return Promise.resolve();
  });
});
