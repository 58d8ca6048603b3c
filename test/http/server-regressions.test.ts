/** Regression tests for the server bugs of issue 12, each named after what used to go wrong. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { run, sleep, createTask } from "../../src/index.ts";
import { Application, Response, json, stream, text } from "../../src/http.ts";
import { serveApp } from "../helpers/http.ts";
import { RawConnection, req } from "./raw-client.ts";

void test("HEAD to a stream() route sends the headers at once, never iterates the body, and the server keeps serving", async () => {
  await run(async () => {
    let iterations = 0;
    const app = new Application();
    app.get("/feed", () =>
      stream(
        (async function* () {
          for (;;) {
            iterations++;
            yield "tick\n";
          }
        })(),
        { headers: { "content-type": "text/plain" } },
      ),
    );
    app.get("/ok", () => "ok");
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("HEAD", "/feed"));
    const head = await conn.response("HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-type")?.[0], "text/plain");
    assert.equal(head.body.length, 0);
    // Same connection, then another one: both answered, so the loop is not spinning.
    conn.send(req("GET", "/ok"));
    assert.equal((await conn.response()).body.toString(), "ok");
    const other = await RawConnection.open(served.port);
    other.send(req("GET", "/ok"));
    assert.equal((await other.response()).status, 200);
    assert.equal(iterations, 0);
    conn.close();
    other.close();
  });
});

void test("server.waitClosed() awaited before close() waits for the whole shutdown, and nothing crashes after run()", async () => {
  const events: string[] = [];
  await run(async () => {
    const app = new Application();
    app.get("/slow", async () => {
      await sleep(0.3);
      events.push("request done");
      return text("done");
    });
    const served = await serveApp(app);
    const waiter = createTask(async () => {
      await served.server.waitClosed();
      events.push("waitClosed returned");
    });
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/slow"));
    await sleep(0.1);
    assert.equal(waiter.done(), false);
    // A signal handler's close(), while the main task waits.
    served.server.close();
    events.push("close called");
    await waiter;
    assert.equal((await conn.response()).status, 200);
    conn.close();
  });
  // Node's "close" event used to arrive after run() and hit a cancelled future.
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(events, ["close called", "request done", "waitClosed returned"]);
});

void test("headers are case-insensitive: a middleware's Content-Type replaces json()'s, request.headers['User-Agent'] works", async () => {
  await run(async () => {
    const app = new Application();
    app.use(async (request, handler) => {
      const response = await handler(request);
      response.headers["Content-Type"] = "application/vnd.test+json";
      response.headers["X-Agent"] = request.headers["User-Agent"] ?? "none";
      return response;
    });
    app.get("/", () => json({ ok: true }));
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/", { "user-agent": "probe/1" }));
    const resp = await conn.response();
    assert.deepEqual(resp.headers.get("content-type"), ["application/vnd.test+json"]);
    assert.equal(resp.head.match(/content-type/gi)?.length, 1);
    assert.deepEqual(resp.headers.get("x-agent"), ["probe/1"]);
    conn.close();
  });
});

void test("{name} route segments match like :name", async () => {
  await run(async () => {
    const app = new Application();
    app.get("/hello/{name}", (request) => text(`hi ${request.params.name}`));
    app.get("/n/{id:\\d+}", (request) => text(`n ${request.params.id}`));
    app.get("/files/{rest:.*}", (request) => text(`f ${request.params.rest}`));
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    for (const [path, status, body] of [
      ["/hello/ada", 200, "hi ada"],
      ["/hello/%7Bname%7D", 200, "hi {name}"],
      ["/n/42", 200, "n 42"],
      ["/n/x", 404, null],
      ["/files/a/b.txt", 200, "f a/b.txt"],
    ] as const) {
      conn.send(req("GET", path));
      const resp = await conn.response();
      assert.equal(resp.status, status, path);
      if (body !== null) assert.equal(resp.body.toString(), body);
    }
    conn.close();
  });
});

void test("a 204 with a body sends neither the body nor a Content-Length; the connection stays usable", async () => {
  await run(async () => {
    const app = new Application();
    app.get("/none", () => text("hello", { status: 204 }));
    app.get("/304", () => new Response("cached", { status: 304, headers: { etag: '"x"' } }));
    app.get("/ok", () => "ok");
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/none") + req("GET", "/304") + req("GET", "/ok"));
    const none = await conn.response();
    assert.equal(none.status, 204);
    assert.equal(none.headers.has("content-length"), false);
    assert.equal(none.headers.has("transfer-encoding"), false);
    const notModified = await conn.response();
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get("etag")?.[0], '"x"');
    const ok = await conn.response();
    assert.equal(ok.body.toString(), "ok", "no stray body bytes were sent before this response");
    conn.close();
  });
});

void test("a 1xx status is refused as a final status", async () => {
  assert.throws(() => new Response(null, { status: 100 }), /interim \(1xx\) status and cannot be the final one/);
  assert.throws(() => text("x", { status: 199 }), RangeError);
  await run(async () => {
    const app = new Application();
    app.get("/", () => text("x", { status: 101 }));
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/"));
    assert.equal((await conn.response()).status, 500);
    conn.close();
  });
});

void test("a response Node refuses for a header goes out as '500 Internal Server Error'", async () => {
  await run(async () => {
    const app = new Application();
    // Passes aiots' CR/LF/NUL check, refused by Node (not Latin-1).
    app.get("/", () => text("x", { headers: { "x-price": "5 €" } }));
    await using served = await serveApp(app);
    const conn = await RawConnection.open(served.port);
    conn.send(req("GET", "/"));
    const resp = await conn.response();
    assert.equal(resp.status, 500);
    assert.equal(resp.reason, "Internal Server Error");
    assert.equal(resp.body.toString(), "500 Internal Server Error");
    conn.close();
  });
});

void test("Expect: 100-continue with a declared body over maxBodySize gets 413 and no 100; within it, 100 then the answer", async () => {
  await run(async () => {
    const app = new Application({ maxBodySize: 1000 });
    app.post("/up", async (request) => text(`got ${(await request.bytes()).length}`));
    await using served = await serveApp(app);
    const big = await RawConnection.open(served.port);
    big.send(req("POST", "/up", { "content-length": 5000, expect: "100-continue" }));
    const refused = await big.response();
    assert.equal(refused.status, 413);
    assert.equal(await big.waitClosed(), true);
    assert.doesNotMatch(refused.head, /100 Continue/);
    big.close();
    const small = await RawConnection.open(served.port);
    small.send(req("POST", "/up", { "content-length": 10, expect: "100-continue" }));
    assert.equal((await small.response()).status, 100);
    small.send("0123456789");
    const ok = await small.response("POST");
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), "got 10");
    small.close();
  });
});

async function signalRun(signal: NodeJS.Signals): Promise<{ code: number | null; lines: string[]; stderr: string; slow: string }> {
  const child = spawn(process.execPath, ["test/http/fixtures/serve-forever.ts"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    rl.on("line", (line) => {
      lines.push(line);
      const m = /^port (\d+)$/.exec(line);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once("exit", () => reject(new Error(`child exited early: ${stderr}`)));
  });
  const conn = await RawConnection.open(port);
  conn.send(req("GET", "/slow"));
  await new Promise((r) => setTimeout(r, 150));
  child.kill(signal);
  const slow = (await conn.response("GET", 20)).body.toString();
  conn.close();
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (c) => resolve(c));
  });
  return { code, lines, stderr, slow };
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  void test(`${signal} on app.serveForever() under run() shuts down gracefully and returns normally`, async () => {
    const { code, lines, stderr, slow } = await signalRun(signal);
    assert.equal(slow, "slow done", "the request running at the signal completed");
    assert.deepEqual(lines.slice(1), ["shutdown hook", "returned", "run ended"], stderr);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /KeyboardInterrupt|Error/);
  });
}
