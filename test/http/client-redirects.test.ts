/** Redirects: history and final URL, method and body rules, limits, credentials across origins, bad Locations. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/index.ts";
import {
  ClientError,
  ClientResponseError,
  ClientSession,
  InvalidUrlRedirectClientError,
  NonHttpUrlRedirectClientError,
  TooManyRedirects,
} from "../../src/http.ts";
import { rejection } from "../helpers/index.ts";
import { type Echoed, echo, peer } from "./client-helpers.ts";

/** A server where `/status/<code>?to=<location>` redirects and anything else echoes. */
async function redirector() {
  return peer((req, res, body) => {
    const url = new URL(req.url!, "http://x");
    const match = /^\/status\/(\d+)$/.exec(url.pathname);
    if (match !== null) {
      res.writeHead(Number(match[1]), { location: url.searchParams.get("to")! });
      return res.end("moved");
    }
    if (url.pathname === "/loop") {
      res.writeHead(302, { location: `/loop?n=${Number(url.searchParams.get("n") ?? 0) + 1}` });
      return res.end();
    }
    echo(req, res, body);
  });
}

void test("redirects are followed: final url, history, relative Locations; allowRedirects: false returns the redirect", async () => {
  const server = await redirector();
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      const to2 = encodeURIComponent("/status/301?to=../final?x=1");
      const resp = await session.get(`/status/302?to=${to2}`);
      assert.equal(resp.status, 200);
      assert.equal(resp.url.href, `${server.url}/final?x=1`);
      assert.deepEqual(resp.history.map((r) => r.status), [302, 301]);
      assert.equal(resp.history[0]!.url.pathname, "/status/302");
      assert.equal((await resp.json<Echoed>()).url, "/final?x=1");
      assert.equal(await resp.history[0]!.text(), "moved", "a redirect's body stays readable");

      const stay = await session.get("/status/302?to=/final", { allowRedirects: false });
      assert.equal(stay.status, 302);
      assert.equal(stay.headers["Location"], "/final");
      assert.equal(await stay.text(), "moved");
      // HEAD does not follow unless asked, as aiohttp.
      assert.equal((await session.head("/status/302?to=/final")).status, 302);
      assert.equal((await session.head("/status/302?to=/final", { allowRedirects: true })).status, 200);
      assert.equal(server.stats.total, 1, "every hop reused the one connection");
      await using noFollow = new ClientSession({ baseUrl: server.url, allowRedirects: false });
      assert.equal((await noFollow.get("/status/307?to=/final")).status, 307);
      assert.equal((await noFollow.get("/status/307?to=/final", { allowRedirects: true })).status, 200);
    });
  } finally {
    await server.close();
  }
});

void test("301/302/303 turn POST into a GET without body; 307/308 keep method and body", async () => {
  const server = await redirector();
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      for (const status of [301, 302, 303]) {
        const got = await (await session.post(`/status/${status}?to=/final`, { json: { a: 1 } })).json<Echoed>();
        assert.equal(got.method, "GET", `${status}`);
        assert.equal(got.body, "");
        assert.equal(got.headers["content-type"], undefined);
      }
      assert.equal((await (await session.put("/status/303?to=/final", { data: "x" })).json<Echoed>()).method, "GET");
      for (const status of [307, 308]) {
        const kept = await (await session.post(`/status/${status}?to=/final`, { json: { a: 1 } })).json<Echoed>();
        assert.equal(kept.method, "POST", `${status}`);
        assert.equal(kept.body, '{"a":1}');
        assert.equal(kept.headers["content-type"], "application/json");
      }
      const form = new FormData();
      form.append("field", "value");
      const multipart = await (await session.put("/status/308?to=/final", { data: form })).json<Echoed>();
      assert.equal(multipart.method, "PUT");
      assert.match(multipart.body, /name="field"\r\n\r\nvalue/);
      // A stream can be sent once: a 307 that needs it again is refused clearly.
      async function* once(): AsyncGenerator<string> {
        yield "chunk";
      }
      await assert.rejects(session.post("/status/307?to=/final", { data: once() }), /a streamed body can be sent only once/);
    });
  } finally {
    await server.close();
  }
});

void test("maxRedirects (default 10) throws TooManyRedirects, a ClientResponseError naming method and URL", async () => {
  const server = await redirector();
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      const error = await rejection(session.get("/loop"));
      assert.ok(error instanceof TooManyRedirects, String(error));
      assert.ok(error instanceof ClientResponseError);
      assert.equal(error.history.length, 11, "ten hops followed, the eleventh redirect refused");
      assert.equal(error.status, 302);
      assert.match(error.message, new RegExp(`too many redirects \\(more than maxRedirects=10\\), GET ${server.url}/loop`));
      const two = await rejection(session.get("/loop", { maxRedirects: 2 }));
      assert.ok(two instanceof TooManyRedirects);
      assert.equal(two.history.length, 3);
      const zero = await rejection(session.get("/status/302?to=/final", { maxRedirects: 0 }));
      assert.ok(zero instanceof TooManyRedirects);
      assert.equal((await session.get("/loop?n=8", { maxRedirects: 2 }).catch((e: unknown) => e)) instanceof TooManyRedirects, true);
      assert.throws(() => new ClientSession({ maxRedirects: -1 }), /maxRedirects must be an integer >= 0/);
    });
  } finally {
    await server.close();
  }
});

void test("Authorization and Cookie are dropped on a cross-origin hop and kept on a same-origin one", async () => {
  const otherPeer = await peer(echo);
  // Cookies do not tell ports apart (RFC 6265), so the other origin is another host name too.
  const other = { url: `http://localhost:${otherPeer.port}`, close: () => otherPeer.close() };
  const server = await redirector();
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url, headers: { Authorization: "Bearer secret" } });
      session.cookieJar.updateCookies({ mine: "1" }, server.url);
      const options = { headers: { cookie: "manual=1" }, cookies: { extra: "2" } };
      const same = await (await session.get("/status/302?to=/final", options)).json<Echoed>();
      assert.equal(same.headers["authorization"], "Bearer secret");
      assert.equal(same.headers["cookie"], "manual=1; mine=1; extra=2");
      const away = await session.get(`/status/307?to=${encodeURIComponent(`${other.url}/landed`)}`, options);
      const landed = await away.json<Echoed>();
      assert.equal(away.url.href, `${other.url}/landed`);
      assert.equal(landed.headers["authorization"], undefined);
      assert.equal(landed.headers["cookie"], undefined, "neither the Cookie header nor the first origin's cookies went along");
      // The other origin's own cookies still go to it.
      session.cookieJar.updateCookies({ theirs: "3" }, other.url);
      const back = await (await session.get(`/status/302?to=${encodeURIComponent(`${other.url}/again`)}`)).json<Echoed>();
      assert.equal(back.headers["cookie"], "theirs=3");
    });
  } finally {
    await server.close();
    await other.close();
  }
});

void test("a redirect to a non-http scheme or an invalid URL gives a clear error and is not followed", async () => {
  const server = await redirector();
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url });
      for (const location of ["file:///etc/passwd", "javascript:alert(1)", "ftp://127.0.0.1/x"]) {
        const error = await rejection(session.get(`/status/302?to=${encodeURIComponent(location)}`));
        assert.ok(error instanceof NonHttpUrlRedirectClientError, `${location}: ${String(error)}`);
        assert.ok(error instanceof ClientError);
        assert.equal(error.location, location);
        assert.match(error.message, /^GET http:\/\/127\.0\.0\.1:\d+\/status\/302\?to=.* redirected \(302\) to ".*", which is not an http: or https: URL; it was not followed$/);
      }
      const invalid = await rejection(session.get(`/status/301?to=${encodeURIComponent("http://[not-a-host/")}`));
      assert.ok(invalid instanceof InvalidUrlRedirectClientError && !(invalid instanceof NonHttpUrlRedirectClientError), String(invalid));
      assert.match(invalid.message, /redirected \(301\) to an invalid URL "http:\/\/\[not-a-host\/"/);
    });
  } finally {
    await server.close();
  }
});
