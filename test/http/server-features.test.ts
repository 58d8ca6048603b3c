/** Server features of API.md §5: cookies, StreamResponse, streamed and multipart bodies, lifecycle hooks, state, access log. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, sleep, CancelledError } from "../../src/index.ts";
import { Application, HttpError, StreamResponse, json, text, type Request } from "../../src/http.ts";
import { otherTasks, serveApp } from "../helpers/http.ts";
import { RawConnection, req } from "./raw-client.ts";

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--max-time", "20", ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`curl failed: ${stderr}`));
      else resolve(stdout);
    });
  });
}

void test("request.cookies, setCookie with every attribute, several Set-Cookie headers, delCookie", async () => {
  await run(async () => {
    const app = new Application();
    app.get("/", (request) => {
      const resp = json(request.cookies);
      resp.setCookie("session", "a b;c", { httpOnly: true, secure: true, sameSite: "Lax", maxAge: 60, domain: "example.test", path: "/app" });
      resp.setCookie("theme", "dark", { expires: new Date(Date.UTC(2030, 0, 1)) });
      resp.setCookie("theme", "light");
      resp.delCookie("old");
      return resp;
    });
    app.get("/bad", () => text("x").setCookie("bad name", "v"));
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/", { cookie: "a=1; b=%20two; a=ignored; =broken; c" }));
    const resp = await conn.response();
    assert.deepEqual(JSON.parse(resp.body.toString()), { a: "1", b: " two" });
    assert.deepEqual(resp.headers.get("set-cookie"), [
      "session=a%20b%3Bc; Max-Age=60; Domain=example.test; Path=/app; HttpOnly; Secure; SameSite=Lax",
      "theme=light; Path=/",
      "old=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    ]);
    conn.send(req("GET", "/bad"));
    assert.equal((await conn.response()).status, 500);
    conn.close();
  });
  assert.throws(() => text("x").setCookie("ok", "v", { sameSite: "sideways" as "Lax" }), /sameSite of cookie ok is "Strict", "Lax" or "None"/);
  assert.throws(() => text("x").setCookie("ok", "v", { expires: "not a date" }), /not a valid date/);
  assert.throws(() => text("x").setCookie("ok", "v", { domain: "bad;domain" }), /cannot set cookie ok/);
});

void test("StreamResponse: prepare, write with backpressure, writeEof; HEAD drops writes; misuse is a clear error", async () => {
  await run(async () => {
    const app = new Application();
    const misuse: string[] = [];
    app.get("/ticks", async (request) => {
      const resp = new StreamResponse({ headers: { "content-type": "text/plain", "x-kind": "stream" } });
      await assert.rejects(resp.write("early"), /before prepare\(\)/).then(() => misuse.push("early"));
      await resp.prepare(request);
      for (let i = 0; i < 3; i++) {
        await resp.write(`tick ${i}\n`);
        await sleep(0.01);
      }
      await resp.writeEof("end\n");
      await assert.rejects(resp.write("late"), /after writeEof\(\)/).then(() => misuse.push("late"));
      return resp;
    });
    app.get("/big", async (request) => {
      const resp = new StreamResponse();
      await resp.prepare(request);
      const chunk = Buffer.alloc(64 * 1024, 120);
      for (let i = 0; i < 64; i++) await resp.write(chunk);
      return resp; // ended by the server
    });
    app.get("/unprepared", () => new StreamResponse({ status: 202 }));
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/ticks"));
    const ticks = await conn.response();
    assert.equal(ticks.body.toString(), "tick 0\ntick 1\ntick 2\nend\n");
    assert.equal(ticks.headers.get("x-kind")?.[0], "stream");
    assert.deepEqual(misuse, ["early", "late"]);
    conn.send(req("HEAD", "/ticks"));
    assert.equal((await conn.response("HEAD")).status, 200);
    conn.send(req("GET", "/unprepared"));
    const unprepared = await conn.response();
    assert.equal(unprepared.status, 202);
    assert.equal(unprepared.body.length, 0);
    conn.close();
    const body = await curl([`${served.url}/big`]);
    assert.equal(body.length, 64 * 64 * 1024);
  });
});

void test("for await over the request streams the body in chunks within maxBodySize", async () => {
  await run(async () => {
    const app = new Application({ maxBodySize: 200_000 });
    app.post("/count", async (request) => {
      let size = 0;
      let chunks = 0;
      for await (const chunk of request) {
        size += chunk.length;
        chunks++;
      }
      return json({ size, chunks });
    });
    app.post("/twice", async (request) => {
      const body = await request.text();
      let again = "";
      for await (const chunk of request) again += chunk.toString();
      return text(`${body === again}`);
    });
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("POST", "/count", { "transfer-encoding": "chunked" }));
    for (let i = 0; i < 5; i++) {
      conn.send(`4000\r\n${"x".repeat(0x4000)}\r\n`);
      await sleep(0.02);
    }
    conn.send("0\r\n\r\n");
    const counted = JSON.parse((await conn.response("POST")).body.toString()) as { size: number; chunks: number };
    assert.equal(counted.size, 5 * 0x4000);
    assert.ok(counted.chunks >= 2, `streamed in ${counted.chunks} chunks`);
    conn.send(req("POST", "/twice", { "content-length": 5 }, "hello"));
    assert.equal((await conn.response("POST")).body.toString(), "true");
    // Over the limit while streaming: 413 and the connection is closed.
    conn.send(req("POST", "/count", { "transfer-encoding": "chunked" }));
    for (let i = 0; i < 20 && !conn.closed; i++) {
      conn.send(`4000\r\n${"y".repeat(0x4000)}\r\n`);
      await sleep(0.01);
    }
    const tooBig = await conn.response("POST");
    assert.equal(tooBig.status, 413);
    assert.equal(await conn.waitClosed(), true);
    conn.close();
  });
});

void test("request.multipart(): streamed parts from curl -F with name, filename, headers, text() and bytes()", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aiots-mp-"));
  try {
    const file = join(dir, "data.bin");
    const content = Buffer.alloc(300_000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7) % 256;
    writeFileSync(file, content);
    await run(async () => {
      const app = new Application({ maxBodySize: 1_000_000 });
      app.post("/upload", async (request) => {
        const parts: unknown[] = [];
        for await (const part of request.multipart()) {
          if (part.filename === null) {
            parts.push({ name: part.name, value: await part.text(), type: part.contentType });
          } else if (part.name === "skipped") {
            parts.push({ name: part.name, skipped: true });
          } else {
            let size = 0;
            let sum = 0;
            for await (const chunk of part) {
              size += chunk.length;
              for (const b of chunk) sum = (sum + b) % 65521;
            }
            parts.push({ name: part.name, filename: part.filename, type: part.headers["Content-Type"], size, sum });
          }
        }
        return json(parts);
      });
      await using served = await serveApp(app);
      const out = await curl(["-F", "title=héllo", "-F", `doc=@${file};type=application/x-test`, "-F", `skipped=@${file}`, "-F", "last=1", `${served.url}/upload`]);
      let sum = 0;
      for (const b of content) sum = (sum + b) % 65521;
      assert.deepEqual(JSON.parse(out), [
        { name: "title", value: "héllo", type: "text/plain" },
        { name: "doc", filename: "data.bin", type: "application/x-test", size: content.length, sum },
        { name: "skipped", skipped: true },
        { name: "last", value: "1", type: "text/plain" },
      ]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("a malformed multipart body is a clear 400, and nothing is left running", async () => {
  await run(async () => {
    const app = new Application();
    app.post("/upload", async (request) => {
      const names: string[] = [];
      for await (const part of request.multipart()) names.push(`${part.name}=${await part.text()}`);
      return json(names);
    });
    await using served = await serveApp(app);
    const cases: [string, Record<string, string>, string, RegExp][] = [
      ["no boundary", { "content-type": "multipart/form-data" }, "x", /no valid boundary/],
      ["not multipart", { "content-type": "text/plain" }, "x", /expected a multipart body/],
      ["no closing delimiter", { "content-type": "multipart/form-data; boundary=XX" }, '--XX\r\ncontent-disposition: form-data; name="a"\r\n\r\nvalue', /malformed multipart body/],
      ["no parts at all", { "content-type": "multipart/form-data; boundary=XX" }, "garbage without delimiter", /malformed multipart body/],
    ];
    for (const [what, headers, body, message] of cases) {
      const conn = await RawConnection.open(served.port);
      conn.send(req("POST", "/upload", { ...headers, "content-length": Buffer.byteLength(body) }, body));
      const resp = await conn.response("POST");
      assert.equal(resp.status, 400, what);
      assert.match(resp.body.toString(), message, what);
      conn.close();
    }
    const good = '--XX\r\ncontent-disposition: form-data; name="a"\r\n\r\nvalue\r\n--XX--\r\n';
    const conn = await RawConnection.open(served.port);
    conn.send(req("POST", "/upload", { "content-type": 'multipart/form-data; boundary="XX"', "content-length": good.length }, good));
    assert.deepEqual(JSON.parse((await conn.response("POST")).body.toString()), ["a=value"]);
    conn.close();
    await sleep(0.05);
    assert.equal(otherTasks(), 0);
  });
});

void test("onStartup, cleanupCtx, onShutdown run in the documented order; app.state and request.app", async () => {
  const order: string[] = [];
  await run(async () => {
    const app = new Application();
    app.onStartup((a) => {
      order.push("startup 1");
      a.state.set("db", "pool");
    });
    app.cleanupCtx(async function* () {
      order.push("ctx A start");
      yield;
      order.push("ctx A cleanup");
    });
    app.onStartup(async () => {
      await sleep(0.01);
      order.push("startup 2");
    });
    app.cleanupCtx(async function* () {
      order.push("ctx B start");
      yield;
      order.push("ctx B cleanup");
    });
    app.onShutdown(() => {
      order.push("shutdown");
    });
    app.get("/", (request: Request) => text(`${request.app === app} ${String(request.app.state.get("db"))}`));
    const served = await serveApp(app);
    order.push("serving");
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/"));
    assert.equal((await conn.response()).body.toString(), "true pool");
    conn.close();
    await served[Symbol.asyncDispose]();
    order.push("closed");
  });
  assert.deepEqual(order, ["startup 1", "startup 2", "ctx A start", "ctx B start", "serving", "shutdown", "ctx B cleanup", "ctx A cleanup", "closed"]);
});

void test("a failing startup undoes the started cleanupCtx and fails serve(); bad hooks are refused", async () => {
  const order: string[] = [];
  await run(async () => {
    const app = new Application();
    app.cleanupCtx(async function* () {
      order.push("ctx start");
      yield;
      order.push("ctx cleanup");
    });
    app.cleanupCtx(async function* () {
      await sleep(0);
      if (order.length > 0) throw new Error("no database");
      yield;
    });
    await assert.rejects(app.serve({ port: 0 }), /no database/);
  });
  assert.deepEqual(order, ["ctx start", "ctx cleanup"]);
  const app = new Application();
  assert.throws(() => app.onStartup("x" as never), /onStartup\(\) takes a function/);
  assert.throws(() => app.cleanupCtx(null as never), /cleanupCtx\(\) takes a function/);
});

void test("access log: off by default; Common Log Format lines when on", async () => {
  await run(async () => {
    const lines: string[] = [];
    const app = new Application({ accessLog: (line) => lines.push(line) });
    app.get("/hello", () => text("hello"));
    app.get("/missing-ish", () => {
      throw new HttpError(404);
    });
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/hello?x=1") + req("GET", "/missing-ish"));
    await conn.response();
    await conn.response();
    conn.close();
    for (let i = 0; i < 100 && lines.length < 2; i++) await sleep(0.01);
    assert.match(lines[0]!, /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/hello\?x=1 HTTP\/1\.1" 200 5$/);
    assert.match(lines[1]!, /"GET \/missing-ish HTTP\/1\.1" 404 9$/);
  });
  assert.equal(new Application().options.accessLog, false);
  assert.throws(() => new Application({ accessLog: "yes" as never }), /accessLog is true, false or a function/);
});

void test("a handler reading a body is cancelled when its client goes away mid-body", async () => {
  await run(async () => {
    let outcome = "";
    const app = new Application();
    app.post("/slow-body", async (request) => {
      try {
        await request.bytes();
        outcome = "read";
      } catch (error) {
        outcome = error instanceof CancelledError ? "cancelled" : `other: ${String(error)}`;
        throw error;
      }
      return text("x");
    });
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("POST", "/slow-body", { "content-length": 1000 }, "partial"));
    await sleep(0.1);
    conn.close();
    for (let i = 0; i < 100 && outcome === ""; i++) await sleep(0.01);
    assert.equal(outcome, "cancelled");
  });
});
