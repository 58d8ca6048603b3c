/**
 * Regression tests of the HTTP client (issue 12): keep-alive reuse, errors that escaped the
 * hierarchy, compression and default headers, timeout precision, and bounded memory.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from "node:net";
import { performance } from "node:perf_hooks";
import * as zlib from "node:zlib";
import { TimeoutError, run, sleep } from "../../src/index.ts";
import { ClientConnectionError, ClientError, ClientPayloadError, ClientSession } from "../../src/http.ts";
import { rejection } from "../helpers/index.ts";
import { otherTasks } from "../helpers/http.ts";
import { type Echoed, echo, peer } from "./client-helpers.ts";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

void test("regression: GET, POST, PUT, PATCH, DELETE one after another on one session use ONE connection", async () => {
  const server = await peer(echo);
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      assert.equal((await (await session.get("/a")).json<Echoed>()).method, "GET");
      assert.equal((await (await session.post("/a", { json: { n: 1 } })).json<Echoed>()).body, '{"n":1}');
      assert.equal((await (await session.put("/a", { data: "put" })).json<Echoed>()).body, "put");
      assert.equal((await (await session.patch("/a", { data: { k: "v" } })).json<Echoed>()).body, "k=v");
      assert.equal((await (await session.delete("/a")).json<Echoed>()).method, "DELETE");
      // HEAD, a streamed upload, and a response released unread keep the same connection too.
      (await session.head("/a")).release();
      async function* parts(): AsyncGenerator<string> {
        yield "x";
        yield "y";
      }
      assert.equal((await (await session.post("/a", { data: parts() })).json<Echoed>()).body, "xy");
      (await session.get("/unread")).release();
      await sleep(0.05);
      assert.equal((await (await session.get("/last")).json<Echoed>()).url, "/last");
      assert.equal(server.stats.total, 1, `sequential requests opened ${server.stats.total} connections`);
    });
  } finally {
    await server.close();
  }
});

/** A raw TCP server that answers every connection with `reply` (then closes, unless `keepOpen`). */
async function rawServer(reply: string | Buffer, keepOpen = false): Promise<{ url: string; server: NetServer }> {
  const server = createNetServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      if (keepOpen) socket.write(reply);
      else socket.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

void test("regression: a garbage status line is a ClientPayloadError naming method and URL, not undici's HTTPParserError", async () => {
  const garbage = await rawServer("HELLO WORLD\r\n\r\n");
  const cut = await rawServer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
  try {
    await run(async () => {
      await using session = new ClientSession();
      const error = await rejection(session.post(`${garbage.url}/x`, { data: "hi" }));
      assert.ok(error instanceof ClientPayloadError, `${String(error)}`);
      assert.ok(error instanceof ClientError);
      assert.match(error.message, new RegExp(`POST ${garbage.url}/x.*malformed response`));
      assert.equal((error.cause as Error).name, "HTTPParserError");
      const resp = await session.get(`${cut.url}/short`);
      const short = await rejection(resp.text());
      assert.ok(short instanceof ClientPayloadError, String(short));
      assert.match(short.message, new RegExp(`GET ${cut.url}/short`));
      const refused = await rejection(session.get("http://127.0.0.1:1/"));
      assert.ok(refused instanceof ClientConnectionError);
      assert.match(refused.message, /GET http:\/\/127\.0\.0\.1:1\/ failed: .*ECONNREFUSED/);
      assert.equal(otherTasks(), 0);
    });
  } finally {
    garbage.server.close();
    cut.server.close();
  }
});

const PAYLOAD = JSON.stringify({ message: "compressed", items: Array.from({ length: 200 }, (_, i) => i) });

void test("regression: gzip, deflate (zlib and raw) and br bodies are decompressed; default headers are sent", async () => {
  const encoders: Record<string, [string, (b: Buffer) => Buffer]> = {
    "/gzip": ["gzip", zlib.gzipSync],
    "/deflate": ["deflate", zlib.deflateSync],
    "/raw-deflate": ["deflate", zlib.deflateRawSync],
    "/br": ["br", zlib.brotliCompressSync],
  };
  const server = await peer((req, res) => {
    if (req.url === "/headers") return echo(req, res, Buffer.alloc(0));
    if (req.url === "/bad-gzip") {
      res.writeHead(200, { "content-encoding": "gzip" });
      return res.end(Buffer.from("this is not gzip at all"));
    }
    if (req.url === "/empty-gzip") {
      res.writeHead(204, { "content-encoding": "gzip" });
      return res.end();
    }
    const [coding, encode] = encoders[req.url!]!;
    res.writeHead(200, { "content-type": "application/json", "content-encoding": coding });
    res.end(encode(Buffer.from(PAYLOAD)));
  });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      for (const path of Object.keys(encoders)) {
        assert.deepEqual(await (await session.get(path)).json(), JSON.parse(PAYLOAD), path);
      }
      const raw = await (await session.get("/gzip", { autoDecompress: false })).bytes();
      assert.equal(zlib.gunzipSync(raw).toString(), PAYLOAD);
      await using plain = new ClientSession({ baseUrl: server.url, autoDecompress: false });
      assert.equal(zlib.brotliDecompressSync(await (await plain.get("/br")).bytes()).toString(), PAYLOAD);
      assert.equal((await (await plain.get("/br", { autoDecompress: true })).json<{ message: string }>()).message, "compressed");

      const bad = await rejection((await session.get("/bad-gzip")).bytes());
      assert.ok(bad instanceof ClientPayloadError, String(bad));
      assert.match(bad.message, /gzip body of GET .*\/bad-gzip could not be decoded/);
      assert.equal((await (await session.get("/empty-gzip")).bytes()).length, 0);

      const sent = (await (await session.get("/headers")).json<Echoed>()).headers;
      assert.equal(sent["user-agent"], `aiots/${VERSION}`);
      assert.equal(sent["accept"], "*/*");
      assert.equal(sent["accept-encoding"], "gzip, deflate, br");
      // Told otherwise: the caller's spelling wins and is the only one; skipAutoHeaders drops them.
      const told = await (await session.get("/headers", { headers: { "user-agent": "mine/1", ACCEPT: "application/json" } })).json<Echoed>();
      assert.equal(told.headers["user-agent"], "mine/1");
      assert.equal(told.headers["accept"], "application/json");
      const skipped = await (await session.get("/headers", { skipAutoHeaders: ["User-Agent", "accept-encoding"] })).json<Echoed>();
      assert.equal(skipped.headers["user-agent"], undefined);
      assert.equal(skipped.headers["accept-encoding"], undefined);
      assert.equal(skipped.headers["accept"], "*/*");
    });
  } finally {
    await server.close();
  }
});

void test("response headers are case-insensitive (aiohttp's CIMultiDictProxy): index access, get, getAll, names as sent", async () => {
  const server = await peer((_req, res) => {
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.setHeader("X-Custom-Thing", "one");
    res.setHeader("Set-Cookie", ["a=1", "b=2"]);
    res.end("ok");
  });
  try {
    await run(async () => {
      await using session = new ClientSession();
      const resp = await session.get(server.url);
      assert.equal(resp.headers["content-type"], "text/plain; charset=utf-8");
      assert.equal(resp.headers["Content-Type"], "text/plain; charset=utf-8");
      assert.equal(resp.headers.get("CONTENT-TYPE"), "text/plain; charset=utf-8");
      assert.equal(resp.headers.has("x-custom-thing"), true);
      assert.deepEqual(resp.headers.getAll("SET-COOKIE"), ["a=1", "b=2"]);
      assert.ok([...resp.headers.keys()].includes("X-Custom-Thing"), "names keep the server's spelling");
      assert.equal(resp.contentType, "text/plain");
      assert.equal(await resp.text(), "ok");
    });
  } finally {
    await server.close();
  }
});

/** Runs `attempt` up to three times and returns the elapsed seconds closest to `expected` (machine load only ever adds delay). */
async function bestOf(expected: number, attempt: () => Promise<unknown>): Promise<{ elapsed: number; error: unknown }> {
  let best = { elapsed: Infinity, error: null as unknown };
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const error = await rejection(attempt());
    const elapsed = (performance.now() - started) / 1000;
    if (Math.abs(elapsed - expected) < Math.abs(best.elapsed - expected)) best = { elapsed, error };
    if (elapsed - expected < 0.05) break;
  }
  return best;
}

function assertFiredOnTime(name: string, value: number, result: { elapsed: number; error: unknown }, message: RegExp): void {
  assert.ok(result.error instanceof TimeoutError, `${name}: ${String(result.error)}`);
  assert.match(result.error.message, message);
  assert.ok(result.elapsed >= value - 0.005, `${name} fired early: ${result.elapsed.toFixed(3)}s for ${value}s`);
  assert.ok(result.elapsed <= value + 0.05, `${name} fired late: ${result.elapsed.toFixed(3)}s for ${value}s (undici's own timers are ~1 s granular)`);
}

void test("regression: total, connect, sockConnect and sockRead each fire within 50 ms of their value", async () => {
  const server = await peer((req, res) => {
    if (req.url === "/slow-body") {
      res.write("start");
      return; // the rest never comes
    }
    if (req.url === "/hold") setTimeout(() => res.end("held"), 1500);
    // anything else: never answered
  });
  // A listener whose accept queue is full never completes a handshake: sockConnect hangs there.
  const { spawn } = await import("node:child_process");
  const { createInterface } = await import("node:readline");
  const { connect: netConnect } = await import("node:net");
  const listener = spawn("/usr/bin/python3", ["-c", "import socket,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const fillers: import("node:net").Socket[] = [];
  try {
    const blackhole = await new Promise<number>((resolve) => createInterface({ input: listener.stdout }).once("line", (line) => resolve(Number(line))));
    for (let i = 0; i < 4; i++) fillers.push(netConnect(blackhole, "127.0.0.1").on("error", () => {}));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      const v = 0.3;
      assertFiredOnTime("total", v, await bestOf(v, () => session.get("/hang", { timeout: { total: v } })), /total timeout of 0.3s for GET/);
      assertFiredOnTime("sockRead (headers)", v, await bestOf(v, () => session.get("/hang", { timeout: { sockRead: v } })), /sockRead timeout of 0.3s waiting for the response headers of GET/);
      assertFiredOnTime(
        "sockRead (body)",
        v,
        await bestOf(v, async () => {
          const resp = await session.get("/slow-body", { timeout: { sockRead: v } });
          const started = performance.now();
          try {
            await resp.text();
          } finally {
            // Measure the body wait only: the headers came at once.
            assert.ok(performance.now() - started > 0);
          }
        }),
        /sockRead timeout of 0.3s waiting for the response body/,
      );
      assertFiredOnTime("sockConnect", v, await bestOf(v, () => session.get(`http://127.0.0.1:${blackhole}/`, { timeout: { sockConnect: v } })), /sockConnect timeout of 0.3s/);
      assertFiredOnTime("connect (opening)", v, await bestOf(v, () => session.get(`http://127.0.0.1:${blackhole}/`, { timeout: { connect: v } })), /connect timeout of 0.3s for GET/);
      // connect also covers waiting for a free connection: limit 1, the only one is held by /hold.
      await using one = new ClientSession({ baseUrl: server.url, limit: 1 });
      const holding = one.get("/hold");
      await sleep(0.05);
      assertFiredOnTime("connect (pool wait)", v, await bestOf(v, () => one.get("/other", { timeout: { connect: v } })), /connect timeout waiting for a free connection \(limit=1/);
      assert.equal(await (await holding).text(), "held");
    });
  } finally {
    for (const socket of fillers) socket.destroy();
    listener.kill("SIGKILL");
    await server.close();
  }
});

void test("regression: maxBodySize (session and per request) stops an endless body without buffering it", async () => {
  let written = 0;
  const server = await peer((req, res) => {
    if (req.url === "/declared") {
      res.writeHead(200, { "content-length": String(10 * 1024 * 1024) });
      res.write(Buffer.alloc(1024));
      return;
    }
    if (req.url === "/small") return res.end("x".repeat(1000));
    if (req.url === "/bomb") {
      res.writeHead(200, { "content-encoding": "gzip" });
      return res.end(zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024)));
    }
    const chunk = Buffer.alloc(64 * 1024, 97);
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk)) written += chunk.length;
      if (!res.destroyed) res.once("drain", pump);
    };
    res.on("close", () => res.removeAllListeners("drain"));
    pump();
  });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url, maxBodySize: 1024 * 1024 });
      const rss = process.memoryUsage().rss;
      const endless = await rejection((await session.get("/endless")).bytes());
      assert.ok(endless instanceof ClientPayloadError, String(endless));
      assert.match(endless.message, /the body of GET http:\/\/127\.0\.0\.1:\d+\/endless is over maxBodySize \(1048576 bytes/);
      assert.ok(process.memoryUsage().rss - rss < 200 * 1024 * 1024, "the endless body was not buffered");
      for (let i = 0; i < 100 && server.stats.open > 1; i++) await sleep(0.01);
      const before = written;
      await sleep(0.1);
      assert.ok(written - before < 4 * 1024 * 1024, "the endless response's connection was closed");

      assert.ok((await rejection((await session.get("/declared")).text())) instanceof ClientPayloadError, "a declared Content-Length over the limit fails at once");
      const bomb = await rejection((await session.get("/bomb")).bytes());
      assert.ok(bomb instanceof ClientPayloadError, "the limit counts decoded bytes");
      assert.match(bomb.message, /maxBodySize/);
      // Per request: stricter, or lifted.
      assert.ok((await rejection((await session.get("/small", { maxBodySize: 100 })).text())) instanceof ClientPayloadError);
      assert.equal((await (await session.get("/small")).text()).length, 1000);
      assert.equal((await (await session.get("/bomb", { maxBodySize: null })).bytes()).length, 64 * 1024 * 1024);
      assert.throws(() => new ClientSession({ maxBodySize: -1 }), /maxBodySize must be a number of bytes >= 0/);
    });
  } finally {
    await server.close();
  }
});

void test("json() of a body that is not JSON is a ClientPayloadError naming method, URL and what came", async () => {
  const server = await peer((_req, res) => res.end("<html>oops</html>"));
  try {
    await run(async () => {
      await using session = new ClientSession();
      const error = await rejection((await session.get(`${server.url}/api`)).json());
      assert.ok(error instanceof ClientPayloadError);
      assert.match(error.message, /the body of GET http:\/\/127\.0\.0\.1:\d+\/api \(application\/octet-stream\) is not JSON: .*starts "<html>oops<\/html>"/);
    });
  } finally {
    await server.close();
  }
});

void test("idle connections close after keepaliveTimeout and leave the pool; a server's Connection: close is honoured", async () => {
  const server = await peer((req, res) => {
    if (req.url === "/close") res.setHeader("Connection", "close");
    res.end(req.url);
  });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url, keepaliveTimeout: 0.2 });
      assert.equal(await (await session.get("/a")).text(), "/a");
      assert.match(String(session), /connections=1 /);
      for (let i = 0; i < 100 && server.stats.open > 0; i++) await sleep(0.02);
      assert.equal(server.stats.open, 0, "the idle connection was closed after keepaliveTimeout");
      assert.match(String(session), /connections=0 /);
      assert.equal(await (await session.get("/close")).text(), "/close");
      assert.equal(await (await session.get("/after")).text(), "/after");
      assert.equal(server.stats.total, 3);
    });
  } finally {
    await server.close();
  }
});

void test("an informational 103 before the response is skipped; json() of an empty body is null", async () => {
  const server = await peer((req, res) => {
    if (req.url === "/empty") {
      res.statusCode = 204;
      return res.end();
    }
    res.writeEarlyHints({ link: "</style.css>; rel=preload" });
    setTimeout(() => res.end("final"), 20);
  });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      const resp = await session.get("/hints");
      assert.equal(resp.status, 200);
      assert.equal(await resp.text(), "final");
      assert.equal(await (await session.get("/empty")).json(), null);
    });
  } finally {
    await server.close();
  }
});

void test("debug mode reports a session left open when run() ends (aiohttp's 'Unclosed client session'), not a closed one", async () => {
  const server = await peer((_req, res) => res.end("x"));
  const reports: string[] = [];
  try {
    await run(
      async () => {
        const { getRunningLoop } = await import("../../src/index.ts");
        getRunningLoop().setExceptionHandler((_loop, context) => {
          if (/ClientSession/.test(context.message)) reports.push(context.message);
        });
        const forgotten = new ClientSession();
        await (await forgotten.get(server.url)).text();
        const closed = new ClientSession();
        await (await closed.get(server.url)).text();
        await closed.close();
      },
      { debug: true },
    );
    assert.equal(reports.length, 1, reports.join("\n"));
    assert.match(reports[0]!, /^unclosed ClientSession <ClientSession #\d+ open connections=1 inFlight=0>.*close it/);
  } finally {
    await server.close();
  }
});

void test("a kept-alive connection the server dropped as it was reused: GET is retried once on a new one, POST is not", async () => {
  // Answers the first request of each connection, then drops the connection when the next one comes.
  let connections = 0;
  const server = createNetServer((socket) => {
    connections++;
    let served = 0;
    socket.on("error", () => {});
    socket.on("data", () => {
      if (served++ === 0) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok");
      else socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    await run(async () => {
      await using session = new ClientSession();
      assert.equal(await (await session.get(url)).text(), "ok");
      assert.equal(await (await session.get(url)).text(), "ok", "retried on a new connection");
      assert.equal(connections, 2);
      const posted = await rejection(session.post(url, { data: "once" }));
      assert.ok(posted instanceof ClientConnectionError, String(posted));
      assert.match(posted.message, /^POST http:\/\/127\.0\.0\.1:\d+\/ failed/);
    });
  } finally {
    server.close();
  }
});
