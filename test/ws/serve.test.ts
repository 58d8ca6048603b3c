import { test } from "node:test";
import assert from "node:assert/strict";
import { createSecureContext } from "node:tls";
import { run, sleep } from "../../src/index.ts";
import { json, text } from "../../src/http.ts";
import { broadcast, connect, ConnectionClosedOK, InvalidStatus, serve, type WebSocket, type WebSocketServer } from "../../src/ws.ts";
import { captureLoopErrors } from "../helpers/index.ts";
import { rawExchange, tcpHandles, tcpHandlesSettled } from "../helpers/http.ts";
import { selfSignedCert } from "../helpers/net.ts";

function portOf(server: WebSocketServer): number {
  return (server.sockets[0]!.getsockname() as [string, number])[1];
}

async function echo(ws: WebSocket): Promise<void> {
  for await (const message of ws) await ws.send(message);
}

void test("serve(): handler per connection, ws.request with the query string, ws.remoteAddress", async () => {
  await run(async () => {
    const seen: { path: string; ua: string | undefined; remote: [string, number] | null }[] = [];
    await using server = await serve(async (ws) => {
      seen.push({ path: ws.request.path, ua: ws.request.headers["x-client"], remote: ws.remoteAddress });
      await echo(ws);
    }, "127.0.0.1", 0);
    const port = portOf(server);
    await using ws = await connect(`ws://127.0.0.1:${port}/feed?since=3&x=y`, { headers: { "x-client": "t1" } });
    await ws.send("hi");
    assert.equal(await ws.recv(), "hi");
    assert.equal(server.connections.size, 1);
    assert.deepEqual(seen.map((s) => [s.path, s.ua]), [["/feed?since=3&x=y", "t1"]]);
    assert.equal(seen[0]!.remote![0], "127.0.0.1");
    assert.ok(seen[0]!.remote![1] > 0);
    assert.deepEqual(ws.remoteAddress, ["127.0.0.1", port]);
    assert.equal(ws.request.path, "/feed?since=3&x=y");
    assert.match(String(server), /ws connections=1/);
  });
});

void test("a plain HTTP GET gets 426; processRequest answers health checks and may refuse", async () => {
  await run(async () => {
    await using server = await serve(echo, "127.0.0.1", 0, {
      processRequest: async (request) => {
        await sleep(0.001); // may wait
        if (request.path === "/healthz") return text("OK\n");
        if (request.path === "/status") return json({ up: true }, { status: 200 });
        if (request.headers.authorization !== "Bearer good") return text("who are you?\n", { status: 401 });
        return undefined;
      },
    });
    const port = portOf(server);
    const plain = await rawExchange(port, "GET /other HTTP/1.1\r\nhost: x\r\nauthorization: Bearer good\r\n\r\n");
    assert.match(plain, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(plain, /upgrade: websocket/i);
    const health = await rawExchange(port, "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    assert.match(health, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(health, /\r\n\r\nOK\n$/);
    // The same on an upgrade request: answered before the handshake.
    const upgradeHealth = await rawExchange(port, upgradeRequest("/healthz"));
    assert.match(upgradeHealth, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(upgradeHealth, /OK\n$/);
    const status = await rawExchange(port, upgradeRequest("/status"));
    assert.match(status, /\{"up":true\}$/);
    await assert.rejects(connect(`ws://127.0.0.1:${port}/x`), (e: unknown) => e instanceof InvalidStatus && e.status === 401);
    await using ws = await connect(`ws://127.0.0.1:${port}/x`, { headers: { authorization: "Bearer good" } });
    await ws.send("in");
    assert.equal(await ws.recv(), "in");
  });
});

function upgradeRequest(path: string, extra = "", key = "dGhlIHNhbXBsZSBub25jZQ=="): string {
  return `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n${extra}\r\n`;
}

void test("bad handshakes: a bad key gets 400, a foreign Origin 403, a processRequest error 500 (logged)", async () => {
  await run(async () => {
    const errors = captureLoopErrors();
    await using server = await serve(echo, "127.0.0.1", 0, { origins: ["https://good.example", /^https:\/\/[a-z]+\.trusted\.example$/, null] });
    const port = portOf(server);
    const badKey = await rawExchange(port, upgradeRequest("/", "", "short"));
    assert.match(badKey, /^HTTP\/1\.1 400 /);
    const badVersion = await rawExchange(port, upgradeRequest("/", "").replace("version: 13", "version: 12"));
    assert.match(badVersion, /^HTTP\/1\.1 400 /);
    const foreign = await rawExchange(port, upgradeRequest("/", "origin: https://evil.example\r\n"));
    assert.match(foreign, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(foreign, /Origin "https:\/\/evil\.example" is not allowed/);
    const good = await rawExchange(port, upgradeRequest("/", "origin: https://a.trusted.example\r\n"), 0.3);
    assert.match(good, /^HTTP\/1\.1 101 /);
    await assert.rejects(connect(`ws://127.0.0.1:${port}/`, { origin: "https://evil.example" }), (e: unknown) => e instanceof InvalidStatus && e.status === 403);
    await using ok = await connect(`ws://127.0.0.1:${port}/`, { origin: "https://good.example" });
    await using noOrigin = await connect(`ws://127.0.0.1:${port}/`);
    assert.equal(ok.state, "open");
    assert.equal(noOrigin.state, "open");

    await using failing = await serve(echo, "127.0.0.1", 0, {
      processRequest: () => {
        throw new Error("boom in processRequest");
      },
    });
    await assert.rejects(connect(`ws://127.0.0.1:${portOf(failing)}/`), (e: unknown) => e instanceof InvalidStatus && e.status === 500);
    assert.equal(errors.filter((c) => String(c.message).includes("processRequest")).length, 1);
  });
});

void test("wss://: serve({ ssl }) with a SecureContext or { cert, key }; connect({ ssl }) verifies", async () => {
  const { key, cert } = selfSignedCert();
  await run(async () => {
    for (const ssl of [{ key, cert }, createSecureContext({ key, cert })]) {
      await using server = await serve(echo, "127.0.0.1", 0, { ssl });
      const url = `wss://127.0.0.1:${portOf(server)}/`;
      await using ws = await connect(url, { ssl: { ca: cert } });
      await ws.send("secret");
      assert.equal(await ws.recv(), "secret");
      assert.match(String(server), /wss connections=1/);
      // Not trusted by default; ssl: false skips verification; plain ws:// to a TLS port fails.
      await assert.rejects(connect(url), /self[- ]signed|certificate/i);
      await using insecure = await connect(url, { ssl: false });
      assert.equal(insecure.state, "open");
      await assert.rejects(connect(url.replace("wss:", "ws:"), { openTimeout: 5 }));
    }
    await assert.rejects(serve(echo, "127.0.0.1", 0, { ssl: true }), /needs a certificate/);
    await assert.rejects(connect("ws://127.0.0.1:1/", { ssl: true }), /ssl is for wss: URLs/);
  });
});

void test("permessage-deflate is negotiated by default, off with compression: null on either side", async () => {
  await run(async () => {
    await using server = await serve(echo, "127.0.0.1", 0);
    await using plain = await serve(echo, "127.0.0.1", 0, { compression: null });
    const big = "compressible ".repeat(10_000);
    await using a = await connect(`ws://127.0.0.1:${portOf(server)}/`);
    // websockets' bounded settings: 12-bit windows both ways (the client offered client_max_window_bits).
    assert.equal(a.extensions, "permessage-deflate; client_max_window_bits=12; server_max_window_bits=12");
    await a.send(big);
    assert.equal(await a.recv(), big);
    await using b = await connect(`ws://127.0.0.1:${portOf(server)}/`, { compression: null });
    assert.equal(b.extensions, "");
    await using c = await connect(`ws://127.0.0.1:${portOf(plain)}/`);
    assert.equal(c.extensions, "");
    await c.send(big);
    assert.equal(await c.recv(), big);
    await assert.rejects(connect("ws://127.0.0.1:1/", { compression: "brotli" as never }), /compression takes/);
  });
});

void test("broadcast(connections, message) reaches the open ones without waiting", async () => {
  await run(async () => {
    const clients = new Set<WebSocket>();
    await using server = await serve(async (ws) => {
      clients.add(ws);
      try {
        for await (const message of ws) broadcast(clients, message);
      } finally {
        clients.delete(ws);
      }
    }, "127.0.0.1", 0);
    const url = `ws://127.0.0.1:${portOf(server)}/`;
    await using a = await connect(url);
    await using b = await connect(url);
    await using c = await connect(url);
    while (clients.size < 3) await sleep(0.005);
    await c.close();
    while (clients.size > 2) await sleep(0.005);
    await a.send("to all");
    assert.equal(await a.recv(), "to all");
    assert.equal(await b.recv(), "to all");
    assert.equal(broadcast(clients, Buffer.from([1])), 2);
    assert.deepEqual(await b.recv(), Buffer.from([1]));
    assert.throws(() => broadcast(clients, 42 as never), TypeError);
  });
});

void test("server close(): 1001 to every connection, handlers finish, nothing leaks", async () => {
  await run(async () => {
    const before = tcpHandles();
    let finished = 0;
    const server = await serve(async (ws) => {
      try {
        await echo(ws);
      } finally {
        finished++;
      }
    }, "127.0.0.1", 0);
    const ws = await connect(`ws://127.0.0.1:${portOf(server)}/`);
    await ws.send("x");
    await ws.recv();
    server.close();
    await server.waitClosed();
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    assert.equal(ws.closeCode, 1001);
    assert.equal(finished, 1);
    assert.ok((await tcpHandlesSettled(before)) <= before, "no TCP handle left open");
  });
});
