import { test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { CancelledError, currentTask, getRunningLoop, run, sleep } from "../../src/index.ts";
import { Application, ClientSession, HttpError, Response, html, json, stream, text } from "../../src/http.ts";
import { Server } from "../../src/core/servers.ts";
import { captureLoopErrors } from "../helpers/index.ts";
import { flag, otherTasks, rawExchange, serveApp, tcpHandles, tcpHandlesSettled } from "../helpers/http.ts";

void test("routes by method and path, with :params, query, json bodies and response types", async () => {
  await run(async () => {
    const app = new Application();
    app.get("/", () => json({ message: "Hello, aiots !" }));
    app.get("/users/:id", (r) => json({ id: r.params.id, verbose: r.query.get("verbose") }));
    app.post("/users", async (r) => json({ got: await r.json() }, { status: 201 }));
    app.put("/t", async (r) => text(`put ${await r.text()}`));
    app.patch("/h", () => html("<b>x</b>"));
    app.delete("/users/:id", (r) => new Response(null, { status: 204, headers: { "x-id": r.params.id! } }));
    app.route("OPTIONS", "/any", () => "plain string");
    await using served = await serveApp(app);
    await using session = new ClientSession({ baseUrl: served.url });
    const root = await session.get("/");
    assert.equal(root.status, 200);
    assert.match(root.headers.get("content-type")!, /^application\/json/);
    assert.deepEqual(await root.json(), { message: "Hello, aiots !" });
    assert.deepEqual(await (await session.get("/users/42?verbose=1")).json(), { id: "42", verbose: "1" });
    const created = await session.post("/users", { json: { name: "ada" } });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { got: { name: "ada" } });
    assert.equal(await (await session.put("/t", { data: "body" })).text(), "put body");
    const h = await session.patch("/h");
    assert.match(h.headers.get("content-type")!, /^text\/html/);
    assert.equal(await h.text(), "<b>x</b>");
    const d = await session.delete("/users/7");
    assert.equal(d.status, 204);
    assert.equal(d.headers.get("x-id"), "7");
    assert.equal(await (await session.request("OPTIONS", "/any")).text(), "plain string");
    const head = await session.head("/");
    assert.equal(head.status, 200);
    assert.equal((await head.bytes()).length, 0);
  });
});

void test("unknown paths get 404, wrong methods 405 with allow, bad JSON 400", async () => {
  await run(async () => {
    const app = new Application();
    app.get("/x", () => "x");
    app.post("/x", async (r) => json(await r.json()));
    await using served = await serveApp(app);
    await using session = new ClientSession({ baseUrl: served.url });
    assert.equal((await session.get("/nope")).status, 404);
    const wrong = await session.put("/x");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET, HEAD, POST");
    const bad = await session.post("/x", { data: "{not json", headers: { "content-type": "application/json" } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /not valid JSON/);
  });
});

void test("middleware runs outermost first and sees 404s; HttpError sets the status", async () => {
  await run(async () => {
    const app = new Application();
    const order: string[] = [];
    app.use(async (request, handler) => {
      order.push("outer in");
      const response = await handler(request);
      order.push(`outer out ${response.status}`);
      response.headers["x-mw"] = "1";
      return response;
    });
    app.use(async (request, handler) => {
      order.push("inner");
      if (request.headers["x-deny"] !== undefined) throw new HttpError(403, "denied");
      return handler(request);
    });
    app.get("/", () => "ok");
    await using served = await serveApp(app);
    await using session = new ClientSession({ baseUrl: served.url });
    const ok = await session.get("/");
    assert.equal(ok.headers.get("x-mw"), "1");
    assert.deepEqual(order, ["outer in", "inner", "outer out 200"]);
    const denied = await session.get("/", { headers: { "x-deny": "1" } });
    assert.equal(denied.status, 403);
    assert.equal(await denied.text(), "denied");
    assert.equal((await session.get("/missing")).status, 404);
  });
});

void test("a handler error becomes a 500, is logged once, and the server keeps serving", async () => {
  await run(async () => {
    const errors = captureLoopErrors();
    const app = new Application();
    app.get("/boom", () => {
      throw new Error("kaboom");
    });
    app.get("/bad-return", () => 42 as never);
    app.get("/bad-header", () => text("x", { headers: { "x-bad": "line\nbreak" } }));
    app.get("/bad-stream", () =>
      stream(
        (async function* () {
          yield "partial";
          await sleep(0);
          throw new Error("stream broke");
        })(),
      ),
    );
    app.get("/ok", () => "fine");
    await using served = await serveApp(app);
    await using session = new ClientSession({ baseUrl: served.url });
    const boom = await session.get("/boom");
    assert.equal(boom.status, 500);
    assert.doesNotMatch(await boom.text(), /kaboom/); // no internals leak to the client
    assert.equal(errors.length, 1);
    assert.equal((errors[0]!.exception as Error).message, "kaboom");
    assert.match(errors[0]!.message, /GET \/boom/);
    assert.equal((await session.get("/bad-return")).status, 500);
    assert.match((errors[1]!.exception as Error).message, /return a Response/);
    assert.equal((await session.get("/bad-header")).status, 500);
    // Refused where the header was set: the handler's own error.
    assert.match(errors[2]!.message, /error handling request GET \/bad-header/);
    assert.match((errors[2]!.exception as Error).message, /CR, LF or NUL/);
    const cut = await session.get("/bad-stream");
    assert.equal(cut.status, 200); // the head was sent before the body failed: the body is cut short
    await assert.rejects(cut.text());
    assert.equal((errors[3]!.exception as Error).message, "stream broke");
    assert.equal(await (await session.get("/ok")).text(), "fine");
    assert.equal(errors.length, 4);
  });
});

void test("bodies over maxBodySize get 413, by content-length and when streamed", async () => {
  await run(async () => {
    const app = new Application({ maxBodySize: 1000 });
    let handled = 0;
    app.post("/up", async (r) => {
      handled++;
      return text(`${(await r.bytes()).length}`);
    });
    await using served = await serveApp(app);
    await using session = new ClientSession({ baseUrl: served.url });
    assert.equal(await (await session.post("/up", { data: Buffer.alloc(1000) })).text(), "1000");
    const big = await session.post("/up", { data: Buffer.alloc(1001) });
    assert.equal(big.status, 413);
    assert.match(await big.text(), /larger than the limit of 1000 bytes/);
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 5; i++) {
        await sleep(0);
        yield Buffer.alloc(400);
      }
    }
    const streamed = await session.post("/up", { data: chunks() });
    assert.equal(streamed.status, 413);
    assert.equal(handled, 3);
    assert.equal(await (await session.post("/up", { data: "small" })).text(), "5");
  });
});

void test("the default body limit is 1 MiB", async () => {
  await run(async () => {
    const app = new Application();
    assert.equal(app.options.maxBodySize, 1024 * 1024);
    app.post("/", async (r) => text(`${(await r.bytes()).length}`));
    await using served = await serveApp(app);
    await using session = new ClientSession({ baseUrl: served.url });
    assert.equal(await (await session.post("/", { data: Buffer.alloc(1024 * 1024) })).text(), "1048576");
    assert.equal((await session.post("/", { data: Buffer.alloc(1024 * 1024 + 1) })).status, 413);
  });
});

void test("streamed responses send each chunk of an async iterable", async () => {
  await run(async () => {
    const app = new Application();
    app.get("/count", () =>
      stream(
        (async function* () {
          for (let i = 0; i < 3; i++) {
            yield `${i};`;
            await sleep(0.005);
          }
        })(),
        { headers: { "content-type": "text/plain" } },
      ),
    );
    await using served = await serveApp(app);
    await using session = new ClientSession({ baseUrl: served.url });
    const resp = await session.get("/count");
    assert.equal(resp.headers.get("transfer-encoding"), "chunked");
    const seen: string[] = [];
    for await (const chunk of resp) seen.push(chunk.toString());
    assert.equal(seen.join(""), "0;1;2;");
  });
});

void test("a handler is cancelled when its client disconnects: CancelledError at its await, signal aborted", async () => {
  await run(async () => {
    const app = new Application();
    const started = flag();
    const outcome: { cancelled?: boolean; aborted?: boolean; finallyRan?: boolean } = {};
    app.get("/slow", async () => {
      const signal = currentTask()!.signal;
      started.set();
      try {
        await sleep(30);
        return text("late");
      } catch (error) {
        outcome.cancelled = error instanceof CancelledError;
        outcome.aborted = signal.aborted;
        throw error;
      } finally {
        outcome.finallyRan = true;
      }
    });
    await using served = await serveApp(app);
    const req = httpRequest(`${served.url}/slow`);
    req.on("error", () => {});
    req.end();
    await started.wait();
    req.destroy();
    for (let i = 0; i < 200 && outcome.finallyRan !== true; i++) await sleep(0.01);
    assert.deepEqual(outcome, { cancelled: true, aborted: true, finallyRan: true });
    assert.equal(served.server.activeTasks, 0);
  });
});

void test("a client that disconnects mid-stream stops the streaming generator", async () => {
  await run(async () => {
    const app = new Application();
    let closed = false;
    let sent = 0;
    app.get("/forever", () =>
      stream(
        (async function* () {
          try {
            for (;;) {
              sent++;
              yield "tick\n";
              await sleep(0.002);
            }
          } finally {
            closed = true;
          }
        })(),
      ),
    );
    await using served = await serveApp(app);
    const req = httpRequest(`${served.url}/forever`, (res) => {
      res.once("data", () => req.destroy());
    });
    req.on("error", () => {});
    req.end();
    for (let i = 0; i < 300 && !closed; i++) await sleep(0.01);
    assert.equal(closed, true);
    assert.ok(sent >= 1);
    assert.equal(served.server.activeTasks, 0);
  });
});

void test("close() lets running requests finish within shutdownTimeout and refuses new connections", async () => {
  await run(async () => {
    const app = new Application();
    const started = flag();
    app.get("/work", async () => {
      started.set();
      await sleep(0.1);
      return text("finished");
    });
    const served = await serveApp(app, { shutdownTimeout: 5 });
    assert.ok(served.server instanceof Server, "app.serve() resolves to an aiots Server");
    assert.deepEqual(served.server.sockets[0]!.getsockname(), ["127.0.0.1", served.port]);
    const session = new ClientSession({ baseUrl: served.url });
    const pending = getRunningLoop().createTask(async () => (await session.get("/work")).text());
    await started.wait();
    served.server.close();
    assert.equal(served.server.sockets.length, 0);
    assert.equal(await pending, "finished");
    await served.server.waitClosed();
    await assert.rejects(session.get("/work"), (e: Error) => e.name === "ClientConnectionError");
    await session.close();
  });
});

void test("close() cancels requests still running after shutdownTimeout", async () => {
  await run(async () => {
    const app = new Application();
    const started = flag();
    let cancelled = false;
    app.get("/stuck", async () => {
      started.set();
      try {
        await sleep(60);
      } catch (e) {
        cancelled = e instanceof CancelledError;
        throw e;
      }
      return text("never");
    });
    const served = await serveApp(app, { shutdownTimeout: 0.05 });
    const session = new ClientSession({ baseUrl: served.url });
    const pending = getRunningLoop().createTask(async () => session.get("/stuck"));
    await started.wait();
    served.server.close();
    await served.server.waitClosed();
    assert.equal(cancelled, true);
    await assert.rejects(pending);
    assert.equal(served.server.activeTasks, 0);
    await session.close();
  });
});

void test("bad input: malformed request 400, oversized head 431, slowloris 408; the server keeps serving, nothing leaks", async () => {
  await run(async () => {
    const handlesBefore = tcpHandles();
    const app = new Application({ headerTimeout: 0.3, maxHeaderSize: 4096 });
    app.get("/", () => "alive");
    const served = await serveApp(app);
    const malformed = await rawExchange(served.port, "GARBAGE / HTTP/1.1\r\n\r\n");
    assert.match(malformed, /^HTTP\/1\.1 400 /);
    const badHeader = await rawExchange(served.port, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
    assert.match(badHeader, /^HTTP\/1\.1 400 /);
    const huge = await rawExchange(served.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(8000)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    // Slowloris: a request head that never finishes is answered 408 and closed.
    const slow = await rawExchange(served.port, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n", 10);
    assert.match(slow, /^HTTP\/1\.1 408 /);
    assert.equal(await rawExchange(served.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").then((r) => r.split("\r\n\r\n")[1]), "alive");
    served.server.close();
    await served.server.waitClosed();
    assert.equal(otherTasks(), 0);
    assert.equal(await tcpHandlesSettled(handlesBefore), handlesBefore);
  });
});

void test("Application rejects bad options, paths and handlers with clear errors", () => {
  assert.throws(() => new Application({ maxBodySize: 0 }), /maxBodySize must be a positive number/);
  const app = new Application();
  assert.throws(() => app.get("users", () => "x"), /starts with "\/"/);
  assert.throws(() => app.get("/x", null as never), /must be a function/);
  assert.throws(() => new Response("x", { status: 99 }), RangeError);
  assert.throws(() => new HttpError(200), RangeError);
  assert.match(String(app.get("/a", () => "a")), /GET \/a/);
});
