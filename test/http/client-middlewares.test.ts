/** Client middlewares (aiohttp 3.12's `middlewares=`): order, changing the request, retries, per-request lists, redirect hops. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/index.ts";
import { ClientSession, type ClientMiddleware } from "../../src/http.ts";
import { type Echoed, echo, peer } from "./client-helpers.ts";

void test("middlewares wrap each request in order, may change it, and may send it again (a token refresh)", async () => {
  let token = "expired";
  const server = await peer((req, res, body) => {
    if (req.url === "/redirect") {
      res.writeHead(302, { location: "/target" });
      return res.end();
    }
    if (req.url === "/private" && req.headers["authorization"] !== "Bearer fresh") {
      res.statusCode = 401;
      return res.end("no");
    }
    echo(req, res, body);
  });
  try {
    await run(async () => {
      const seen: string[] = [];
      const trace: ClientMiddleware = async (request, handler) => {
        seen.push(`> ${request.method} ${request.url.pathname}`);
        const resp = await handler(request);
        seen.push(`< ${resp.status}`);
        return resp;
      };
      const auth: ClientMiddleware = async (request, handler) => {
        request.headers.set("Authorization", `Bearer ${token}`);
        const first = await handler(request);
        if (first.status !== 401) return first;
        first.release();
        token = "fresh";
        request.headers.set("Authorization", `Bearer ${token}`);
        return handler(request);
      };
      await using session = new ClientSession({ baseUrl: server.url, middlewares: [trace, auth] });
      const resp = await session.post("/private", { json: { n: 1 } });
      assert.equal(resp.status, 200);
      const got = await resp.json<Echoed>();
      assert.equal(got.headers["authorization"], "Bearer fresh");
      assert.equal(got.body, '{"n":1}', "the retry sent the body again");
      assert.deepEqual(seen, ["> POST /private", "< 200"], "the outer middleware saw one call; the inner one retried");

      // Each redirect hop goes through the middlewares.
      seen.length = 0;
      assert.equal((await session.get("/redirect")).url.pathname, "/target");
      assert.deepEqual(seen, ["> GET /redirect", "< 302", "> GET /target", "< 200"]);

      // A request's list replaces the session's; [] sends with none.
      const rewrite: ClientMiddleware = (request, handler) => {
        request.url = new URL("/rewritten?by=mw", request.url);
        request.headers["X-Added"] = "yes";
        return handler(request);
      };
      seen.length = 0;
      const rewritten = await (await session.get("/original", { middlewares: [rewrite] })).json<Echoed>();
      assert.equal(rewritten.url, "/rewritten?by=mw");
      assert.equal(rewritten.headers["x-added"], "yes");
      assert.equal(rewritten.headers["authorization"], undefined);
      assert.deepEqual(seen, []);
      assert.equal((await session.get("/private", { middlewares: [] })).status, 401);
      let shown = "";
      const show: ClientMiddleware = (request, handler) => {
        shown = String(request);
        return handler(request);
      };
      (await session.get("/x", { middlewares: [show] })).release();
      assert.match(shown, /^<ClientRequest GET http:\/\/127\.0\.0\.1:\d+\/x>$/);
    });
  } finally {
    await server.close();
  }
});

void test("a middleware's error reaches the caller, and the connection is not leaked", async () => {
  const server = await peer(echo);
  try {
    await run(async () => {
      const failing: ClientMiddleware = async (request, handler) => {
        const resp = await handler(request);
        resp.release();
        throw new Error(`refused ${request.url.pathname}`);
      };
      await using session = new ClientSession({ baseUrl: server.url, limit: 1, timeout: { total: 5 } });
      await assert.rejects(session.get("/a", { middlewares: [failing] }), /refused \/a/);
      // With limit 1, this would wait forever if the failed request had kept the connection.
      assert.equal((await (await session.get("/b")).json<Echoed>()).url, "/b");
    });
  } finally {
    await server.close();
  }
});
