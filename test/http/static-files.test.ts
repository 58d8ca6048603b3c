/** app.static() and FileResponse: content type, conditional requests, ranges, and confinement to the directory. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/index.ts";
import { Application, FileResponse } from "../../src/http.ts";
import { parseRange } from "../../src/http/static-files.ts";
import { serveApp } from "../helpers/http.ts";
import { RawConnection, req } from "./raw-client.ts";

function fixture(): { root: string; pub: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "aiots-static-"));
  const pub = join(root, "public");
  mkdirSync(join(pub, "sub"), { recursive: true });
  writeFileSync(join(pub, "index.html"), "<h1>hi</h1>");
  writeFileSync(join(pub, "sub", "data.json"), '{"a":1}');
  writeFileSync(join(pub, "digits.txt"), "0123456789");
  writeFileSync(join(pub, "with space.txt"), "spaced");
  writeFileSync(join(root, "secret.txt"), "TOP SECRET");
  symlinkSync(join(root, "secret.txt"), join(pub, "escape.txt"));
  symlinkSync(join(pub, "digits.txt"), join(pub, "inside-link.txt"));
  symlinkSync(root, join(pub, "rootdir"));
  utimesSync(join(pub, "digits.txt"), new Date("2024-01-02T03:04:05Z"), new Date("2024-01-02T03:04:05Z"));
  return { root, pub, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

void test("app.static serves files with content type, length, ETag, Last-Modified; HEAD has no body", async () => {
  const { pub, cleanup } = fixture();
  try {
    await run(async () => {
      const app = new Application().static("/static/", pub);
      await using served = await serveApp(app);
      const conn = await RawConnection.open(served.port);
      conn.send(req("GET", "/static/index.html"));
      const html = await conn.response();
      assert.equal(html.status, 200);
      assert.equal(html.body.toString(), "<h1>hi</h1>");
      assert.equal(html.headers.get("content-type")?.[0], "text/html; charset=utf-8");
      assert.equal(html.headers.get("content-length")?.[0], "11");
      assert.equal(html.headers.get("accept-ranges")?.[0], "bytes");
      assert.match(html.headers.get("etag")?.[0] ?? "", /^"[0-9a-f]+-b"$/);
      conn.send(req("GET", "/static/sub/data.json"));
      const data = await conn.response();
      assert.equal(data.headers.get("content-type")?.[0], "application/json; charset=utf-8");
      conn.send(req("GET", "/static/with%20space.txt"));
      assert.equal((await conn.response()).body.toString(), "spaced");
      conn.send(req("GET", "/static/inside-link.txt"));
      assert.equal((await conn.response()).body.toString(), "0123456789", "a symlink inside the directory is served");
      conn.send(req("HEAD", "/static/digits.txt"));
      const head = await conn.response("HEAD");
      assert.equal(head.headers.get("content-length")?.[0], "10");
      assert.equal(head.headers.get("last-modified")?.[0], "Tue, 02 Jan 2024 03:04:05 GMT");
      conn.send(req("POST", "/static/digits.txt"));
      assert.equal((await conn.response()).status, 405);
      conn.send(req("GET", "/static/digits.txt"));
      assert.equal((await conn.response()).body.toString(), "0123456789", "the connection is still in step after HEAD");
      conn.close();
    });
  } finally {
    cleanup();
  }
});

void test("If-None-Match and If-Modified-Since give 304; Range gives 206, 416 or the whole file", async () => {
  const { pub, cleanup } = fixture();
  try {
    await run(async () => {
      const app = new Application().static("/s", pub);
      await using served = await serveApp(app);
      const conn = await RawConnection.open(served.port);
      conn.send(req("GET", "/s/digits.txt"));
      const first = await conn.response();
      const etag = first.headers.get("etag")![0]!;
      const checks: [Record<string, string>, number, string | null][] = [
        [{ "if-none-match": etag }, 304, null],
        [{ "if-none-match": `"other", W/${etag}` }, 304, null],
        [{ "if-none-match": "*" }, 304, null],
        [{ "if-none-match": '"other"' }, 200, "0123456789"],
        [{ "if-modified-since": "Tue, 02 Jan 2024 03:04:05 GMT" }, 304, null],
        [{ "if-modified-since": "Mon, 01 Jan 2024 00:00:00 GMT" }, 200, "0123456789"],
        [{ "if-none-match": '"other"', "if-modified-since": "Tue, 02 Jan 2024 03:04:05 GMT" }, 200, "0123456789"],
        [{ range: "bytes=2-4" }, 206, "234"],
        [{ range: "bytes=7-" }, 206, "789"],
        [{ range: "bytes=-3" }, 206, "789"],
        [{ range: "bytes=5-100" }, 206, "56789"],
        [{ range: "bytes=10-" }, 416, null],
        [{ range: "bytes=0-1,4-5" }, 200, "0123456789"],
        [{ range: "items=0-1" }, 200, "0123456789"],
        [{ range: "bytes=2-4", "if-range": etag }, 206, "234"],
        [{ range: "bytes=2-4", "if-range": '"stale"' }, 200, "0123456789"],
      ];
      for (const [headers, status, body] of checks) {
        conn.send(req("GET", "/s/digits.txt", headers));
        const resp = await conn.response();
        assert.equal(resp.status, status, JSON.stringify(headers));
        if (body !== null) assert.equal(resp.body.toString(), body, JSON.stringify(headers));
        if (status === 304) assert.equal(resp.headers.get("etag")?.[0], etag);
        if (status === 206) assert.match(resp.headers.get("content-range")?.[0] ?? "", /^bytes \d+-\d+\/10$/);
        if (status === 416) assert.equal(resp.headers.get("content-range")?.[0], "bytes */10");
      }
      conn.close();
    });
  } finally {
    cleanup();
  }
  assert.deepEqual(parseRange("bytes=0-0", 1), [0, 0]);
  assert.equal(parseRange("bytes=-0", 10), "unsatisfiable");
  assert.equal(parseRange("bytes=5-2", 10), null);
});

void test("nothing outside the directory is served: .., encoded .., %2F, backslash, NUL, symlinks out", async () => {
  const { pub, cleanup } = fixture();
  try {
    await run(async () => {
      const app = new Application().static("/static", pub);
      app.get("/ok", () => "ok");
      await using served = await serveApp(app);
      const attempts = [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/sub/..%2F..%2Fsecret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/digits.txt%00.html",
        "/static/escape.txt",
        "/static/rootdir/secret.txt",
        "/static/sub",
        "/static/",
        "/static/missing.txt",
        "/static/%zz",
      ];
      const statuses: number[] = [];
      for (const target of attempts) {
        const conn = await RawConnection.open(served.port);
        conn.send(req("GET", target));
        let resp;
        try {
          resp = await conn.response();
        } catch {
          // Node itself may refuse a target (400) or close: either way nothing was served.
          conn.close();
          continue;
        }
        assert.ok(resp.status === 404 || resp.status === 400, `${target} -> ${resp.status}`);
        statuses.push(resp.status);
        assert.doesNotMatch(resp.body.toString(), /TOP SECRET/, target);
        conn.send(req("GET", "/ok"));
        if (resp.status === 404) assert.equal((await conn.response()).body.toString(), "ok");
        conn.close();
      }
      // Every attempt got an answer from aiots (404), none was cut off by Node.
      assert.deepEqual(statuses, attempts.map(() => 404));
    });
  } finally {
    cleanup();
  }
});

void test("new FileResponse(path) from a handler; a missing file is 404; a bad path is a TypeError", async () => {
  const { root, pub, cleanup } = fixture();
  try {
    await run(async () => {
      const app = new Application();
      app.get("/report", () => new FileResponse(join(pub, "digits.txt"), { headers: { "content-type": "text/x-digits" } }));
      app.get("/gone", () => new FileResponse(join(root, "nope.txt")));
      app.get("/dir", () => new FileResponse(pub));
      await using served = await serveApp(app);
      const conn = await RawConnection.open(served.port);
      conn.send(req("GET", "/report"));
      const report = await conn.response();
      assert.equal(report.body.toString(), "0123456789");
      assert.equal(report.headers.get("content-type")?.[0], "text/x-digits");
      conn.send(req("GET", "/gone"));
      assert.equal((await conn.response()).status, 404);
      conn.send(req("GET", "/dir"));
      assert.equal((await conn.response()).status, 404);
      conn.close();
    });
  } finally {
    cleanup();
  }
  assert.throws(() => new FileResponse(""), /needs a file path/);
  assert.throws(() => new FileResponse("a\0b"), /needs a file path/);
  assert.throws(() => new Application().static("static", "."), /starts with "\/"/);
});
