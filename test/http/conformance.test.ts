/**
 * HTTP/1.1 conformance probes against `Application` over raw sockets, from RFC 9110/9112 and the
 * known request-smuggling shapes. Each probe sends bytes exactly as written on a fresh
 * connection, asserts the status, and then asserts the connection is sane: closed, or serving the
 * next request correctly (a `GET /` answered `ok`, in step). A verdict table is printed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/index.ts";
import { Application, Response, stream, text } from "../../src/http.ts";
import { serveApp } from "../helpers/http.ts";
import { RawConnection } from "./raw-client.ts";

type After = "closed" | "serves" | "either";

interface Probe {
  name: string;
  /** Where the expectation comes from. */
  ref: string;
  /** Bytes to send, or steps with pauses (seconds) between them. */
  send: string | (string | number)[];
  /** Method of the request, for whether the response has a body. */
  method?: string;
  /** Acceptable statuses of the (first final) response, in order of the responses expected. */
  expect: number[][];
  /** Body the last expected response must carry, when it matters. */
  body?: string;
  after: After;
}

const H = "Host: 127.0.0.1\r\n";
const GET = `GET / HTTP/1.1\r\n${H}\r\n`;

const PROBES: Probe[] = [
  // Message framing and smuggling (RFC 9112 §6).
  { name: "CL and TE both (CL.TE)", ref: "9112 §6.1, §6.3", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, expect: [[400]], after: "closed" },
  { name: "TE and CL both (TE.CL)", ref: "9112 §6.1", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1\r\nZ\r\n0\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "duplicate Content-Length, different values", ref: "9112 §6.3 (5)", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde`, expect: [[400]], after: "closed" },
  { name: "Content-Length list with different values", ref: "9112 §6.3 (5)", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: 3, 5\r\n\r\nabcde`, expect: [[400]], after: "closed" },
  { name: "signed Content-Length +3", ref: "9110 §8.6", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`, expect: [[400]], after: "closed" },
  { name: "negative Content-Length", ref: "9110 §8.6", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: -3\r\n\r\nabc`, expect: [[400]], after: "closed" },
  { name: "Content-Length with trailing garbage", ref: "9110 §8.6", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: 3x\r\n\r\nabc`, expect: [[400]], after: "closed" },
  { name: "Content-Length overflow", ref: "9112 §6.3", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\nabc`, expect: [[400]], after: "closed" },
  { name: "chunk-size overflow", ref: "9112 §7.1", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nabc\r\n0\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "chunk-size not hex", ref: "9112 §7.1", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "chunk data longer than its size", ref: "9112 §7.1", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "TE not ending in chunked", ref: "9112 §6.3 (4)", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "TE with an unknown coding", ref: "9112 §6.1", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: [[400, 501]], after: "closed" },
  { name: "TE with space before the colon", ref: "9112 §5.1", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "TE folded onto the next line (obs-fold)", ref: "9112 §5.2", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "obs-fold in an ordinary header", ref: "9112 §5.2", send: `GET / HTTP/1.1\r\n${H}X-Long: a\r\n b\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "chunked body with extension and trailer", ref: "9112 §7.1.1, §7.1.2", send: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n`, method: "POST", expect: [[200]], body: "abcde", after: "serves" },
  { name: "body over maxBodySize by Content-Length", ref: "9110 §15.5.14", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n${"x".repeat(5000)}`, method: "POST", expect: [[413]], after: "closed" },
  // Line endings, fields and the request line (RFC 9112 §2, §3, §5).
  { name: "bare LF line endings", ref: "9112 §2.2 (MAY accept)", send: `GET / HTTP/1.1\n${H.replace("\r\n", "\n")}\n`, expect: [[200, 400]], after: "either" },
  { name: "bare CR in a header value", ref: "9112 §2.2", send: `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "NUL in a header value", ref: "9110 §5.5", send: `GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "whitespace between field name and colon", ref: "9112 §5.1", send: `GET / HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n`, expect: [[400]], after: "closed" },
  { name: "missing Host in HTTP/1.1", ref: "9112 §3.2", send: "GET / HTTP/1.1\r\n\r\n", expect: [[400]], after: "closed" },
  { name: "two Host headers", ref: "9112 §3.2", send: `GET / HTTP/1.1\r\n${H}${H}\r\n`, expect: [[400]], after: "closed" },
  { name: "absolute-form target", ref: "9112 §3.2.2", send: `GET http://127.0.0.1/ HTTP/1.1\r\n${H}\r\n`, expect: [[200]], body: "ok", after: "serves" },
  { name: "unknown method", ref: "9110 §9.1", send: `BREW / HTTP/1.1\r\n${H}\r\n`, expect: [[400, 405, 501]], after: "either" },
  { name: "unsupported HTTP version 1.2", ref: "9112 §2.3", send: `GET / HTTP/1.2\r\n${H}\r\n`, expect: [[400, 505]], after: "closed" },
  { name: "header too large", ref: "9110 §15.5.20 (RFC 6585 431)", send: `GET / HTTP/1.1\r\n${H}X-Big: ${"a".repeat(10_000)}\r\n\r\n`, expect: [[431]], after: "closed" },
  { name: "request line too long", ref: "9112 §3 (414/431)", send: `GET /${"a".repeat(10_000)} HTTP/1.1\r\n${H}\r\n`, expect: [[414, 431]], after: "closed" },
  { name: "too many header fields", ref: "RFC 6585 §5 (431)", send: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 150 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`, expect: [[431]], after: "closed" },
  // Connection management and pipelining (RFC 9112 §9).
  { name: "pipelined GET, POST, GET", ref: "9112 §9.3.2", send: `${GET}POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nxyz${GET}`, method: "POST", expect: [[200], [200], [200]], body: "ok", after: "serves" },
  { name: "pipelined request after a 404", ref: "9112 §9.3.2", send: `GET /missing HTTP/1.1\r\n${H}\r\n${GET}`, expect: [[404], [200]], body: "ok", after: "serves" },
  { name: "Connection: close from the client", ref: "9112 §9.6", send: `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: [[200]], after: "closed" },
  { name: "HTTP/1.0 without keep-alive", ref: "9112 §9.3", send: `GET / HTTP/1.0\r\n${H}\r\n`, expect: [[200]], after: "closed" },
  { name: "HTTP/1.0 with keep-alive", ref: "9112 §C.2.2", send: `GET / HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\n`, expect: [[200]], after: "serves" },
  // Bodiless responses and interim responses (RFC 9110 §9.3.2, §15.2, §15.3.5, §15.4.5).
  { name: "HEAD has headers, no body, stays in step", ref: "9110 §9.3.2", send: `HEAD / HTTP/1.1\r\n${H}\r\n`, method: "HEAD", expect: [[200]], after: "serves" },
  { name: "HEAD on a streamed route", ref: "9110 §9.3.2", send: `HEAD /stream HTTP/1.1\r\n${H}\r\n`, method: "HEAD", expect: [[200]], after: "serves" },
  { name: "204 has no body", ref: "9110 §15.3.5", send: `GET /none HTTP/1.1\r\n${H}\r\n`, expect: [[204]], after: "serves" },
  { name: "304 has no body", ref: "9110 §15.4.5", send: `GET /nm HTTP/1.1\r\n${H}\r\n`, expect: [[304]], after: "serves" },
  { name: "Expect: 100-continue", ref: "9110 §10.1.1", send: [`POST /echo HTTP/1.1\r\n${H}Content-Length: 3\r\nExpect: 100-continue\r\n\r\n`, 0.2, "abc"], method: "POST", expect: [[100], [200]], body: "abc", after: "serves" },
  { name: "Expect: 100-continue over maxBodySize", ref: "9110 §10.1.1, §15.5.14", send: `POST /echo HTTP/1.1\r\n${H}Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n`, method: "POST", expect: [[413]], after: "closed" },
  { name: "unknown expectation", ref: "9110 §10.1.1 (417)", send: `GET / HTTP/1.1\r\n${H}Expect: teapot\r\n\r\n`, expect: [[417]], after: "either" },
  // Slow clients.
  { name: "slow head (slowloris)", ref: "9110 §15.5.9 (408)", send: [`GET / HTTP/1.1\r\n${H}X-Slow: 1\r\n`, 2.5], expect: [[408]], after: "closed" },
  { name: "slow body", ref: "9110 §15.5.9 (408)", send: [`POST /echo HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`, 3.5], method: "POST", expect: [[408]], after: "closed" },
  { name: "slow but steady head", ref: "9112 (within headerTimeout)", send: ["GET / HTTP/1.1\r\n", 0.2, H, 0.2, "\r\n"], expect: [[200]], body: "ok", after: "serves" },
];

interface Verdict {
  name: string;
  ref: string;
  expected: string;
  got: string;
  after: string;
  ok: boolean;
}

async function runProbe(port: number, probe: Probe): Promise<Verdict> {
  const conn = await RawConnection.open(port);
  const got: number[] = [];
  let afterState: string;
  let ok = true;
  try {
    for (const step of typeof probe.send === "string" ? [probe.send] : probe.send) {
      if (typeof step === "number") await new Promise((r) => setTimeout(r, step * 1000));
      else conn.send(step);
    }
    let lastBody = "";
    for (let i = 0; i < probe.expect.length; i++) {
      const resp = await conn.response(probe.method ?? "GET", 10);
      got.push(resp.status);
      lastBody = resp.body.toString("latin1");
      if (!probe.expect[i]!.includes(resp.status)) ok = false;
    }
    if (probe.body !== undefined && lastBody !== probe.body) ok = false;
    const closedSoon = probe.after === "closed" ? await conn.waitClosed(3) : await conn.waitClosed(0.3);
    if (closedSoon) {
      afterState = "closed";
      if (probe.after === "serves") ok = false;
    } else if (probe.after === "closed") {
      afterState = "still open";
      ok = false;
    } else {
      conn.send(GET);
      const next = await conn.response("GET", 5);
      const sane = next.status === 200 && next.body.toString() === "ok" && conn.pending.length === 0;
      afterState = sane ? "serves next" : `next got ${next.status}`;
      if (!sane) ok = false;
    }
  } catch (error) {
    afterState = `error: ${(error as Error).message.slice(0, 60)}`;
    ok = false;
  } finally {
    conn.close();
  }
  return {
    name: probe.name,
    ref: probe.ref,
    expected: `${probe.expect.map((e) => e.join("|")).join(", ")} then ${probe.after}`,
    got: got.join(", ") || "-",
    after: afterState,
    ok,
  };
}

function table(verdicts: Verdict[]): string {
  const rows = [["probe", "RFC", "expected", "got", "after", "verdict"], ...verdicts.map((v) => [v.name, v.ref, v.expected, v.got, v.after, v.ok ? "PASS" : "FAIL"])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")).join("\n");
}

void test("HTTP/1.1 conformance probes: each gets the right status and leaves the connection sane", async () => {
  const verdicts: Verdict[] = [];
  await run(async () => {
    const app = new Application({ maxBodySize: 1000, headerTimeout: 1, requestTimeout: 2, maxHeaderSize: 8192, maxHeaders: 100 });
    app.get("/", () => text("ok"));
    app.post("/echo", async (request) => text(await request.text()));
    app.get("/none", () => new Response(null, { status: 204 }));
    app.get("/nm", () => new Response(null, { status: 304, headers: { etag: '"v1"' } }));
    app.get("/stream", () =>
      stream(
        (async function* () {
          for (;;) yield "x";
        })(),
      ),
    );
    await using served = await serveApp(app);
    // A few at a time: the slow probes wait seconds, the rest are quick.
    const queue = [...PROBES];
    const results = new Map<Probe, Verdict>();
    const workers = Array.from({ length: 4 }, async () => {
      for (let probe = queue.shift(); probe !== undefined; probe = queue.shift()) results.set(probe, await runProbe(served.port, probe));
    });
    await Promise.all(workers);
    for (const probe of PROBES) verdicts.push(results.get(probe)!);
  });
  console.log(`\n${table(verdicts)}\n`);
  const failed = verdicts.filter((v) => !v.ok);
  assert.deepEqual(failed.map((v) => `${v.name}: got ${v.got}, ${v.after}`), []);
});
