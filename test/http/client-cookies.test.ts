/** The client's cookie jar: Set-Cookie stored and sent back by RFC 6265's rules, invalid cookies ignored, the jar API. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/index.ts";
import { ClientSession, CookieJar } from "../../src/http.ts";
import { type Echoed, echo, peer } from "./client-helpers.ts";

void test("cookies a response sets are stored (path, expiry, domain rules) and sent back; invalid ones are ignored safely", async () => {
  const server = await peer((req, res, body) => {
    if (req.url === "/login") {
      res.setHeader("Set-Cookie", [
        "sid=abc123; Path=/; HttpOnly",
        "pref=dark; Path=/app",
        "gone=1; Max-Age=0",
        "old=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "elsewhere=1; Domain=example.com",
        "=novalue",
        'quoted="a b"; Path=/; Max-Age=abc; Expires=never',
        "garbage;;;;==;",
      ]);
      return res.end("welcome");
    }
    echo(req, res, body);
  });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      const login = await session.get("/login");
      assert.equal(await login.text(), "welcome");
      assert.equal(login.cookies["sid"], "abc123");
      assert.equal(login.cookies["pref"], "dark");
      assert.equal(login.cookies["elsewhere"], "1", "resp.cookies lists what the response set, accepted or not");
      const root = await (await session.get("/")).json<Echoed>();
      assert.equal(root.headers["cookie"], 'sid=abc123; quoted="a b"', "a bad Max-Age or Expires attribute is ignored, not the cookie");
      const app = await (await session.get("/app/page")).json<Echoed>();
      assert.equal(app.headers["cookie"], 'pref=dark; sid=abc123; quoted="a b"', "the more specific path first");
      assert.deepEqual(session.cookieJar.filterCookies(`${server.url}/app/x`), { pref: "dark", sid: "abc123", quoted: '"a b"' });
      assert.deepEqual(session.cookieJar.filterCookies(new URL(`${server.url}/`)), { sid: "abc123", quoted: '"a b"' });
      assert.deepEqual(session.cookieJar.filterCookies("http://example.com/"), {}, "a Domain the server may not set was refused");
      assert.equal(session.cookieJar.size, 3);
      assert.match(String(session.cookieJar), /<CookieJar 3 cookies>/);
    });
  } finally {
    await server.close();
  }
});

void test("the jar API: updateCookies (for a URL or shared), clear, clear(predicate), clearDomain, per-request and session cookies", async () => {
  const server = await peer(echo);
  try {
    await run(async () => {
      const jar = new CookieJar();
      jar.updateCookies({ a: "1", b: "2" }, `${server.url}/`);
      jar.updateCookies({ everywhere: "yes" });
      jar.updateCookies({ x: "1" }, "https://api.example.org/v1/items");
      assert.deepEqual(jar.filterCookies("https://api.example.org/v1/other"), { everywhere: "yes", x: "1" });
      assert.deepEqual(jar.filterCookies("https://api.example.org/"), { everywhere: "yes" }, "default path is the URL's directory");
      await using session = new ClientSession({ baseUrl: server.url, cookieJar: jar, cookies: { fromSession: "s" } });
      assert.equal(session.cookieJar, jar);
      const sent = await (await session.get("/", { cookies: { once: "o" } })).json<Echoed>();
      assert.equal(sent.headers["cookie"], "everywhere=yes; fromSession=s; a=1; b=2; once=o");
      const later = await (await session.get("/")).json<Echoed>();
      assert.doesNotMatch(later.headers["cookie"]!, /once=/, "per-request cookies are not stored");

      jar.clear((cookie) => cookie.name === "a" || cookie.name === "fromSession");
      assert.deepEqual(Object.keys(jar.filterCookies(`${server.url}/`)).sort(), ["b", "everywhere"]);
      jar.clearDomain("example.org");
      assert.deepEqual(jar.filterCookies("https://api.example.org/v1/x"), { everywhere: "yes" });
      jar.clear();
      assert.equal(jar.size, 0);
      assert.equal((await (await session.get("/")).json<Echoed>()).headers["cookie"], undefined);

      assert.throws(() => jar.updateCookies({ "bad name": "1" }), /invalid cookie name "bad name"/);
      assert.throws(() => jar.updateCookies({ ok: "semi;colon" }), /invalid value for cookie ok/);
      assert.throws(() => jar.filterCookies("not a url"), /invalid URL "not a url"/);
      await assert.rejects(session.get("/", { cookies: { a: "1; admin=1" } }), /invalid value for cookie a/);
    });
  } finally {
    await server.close();
  }
});
