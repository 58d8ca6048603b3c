import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect as netConnect, type AddressInfo, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { CancelledError, TimeoutError, createTask, gather, run, sleep } from "../../src/index.ts";
import { ClientConnectionError, ClientResponseError, ClientSession } from "../../src/http.ts";
import { rejection } from "../helpers/index.ts";
import { otherTasks } from "../helpers/http.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A plain node:http server (so client tests do not depend on the aiots server), with connection stats. */
async function nodeServer(handler: Handler): Promise<{ url: string; stats: { open: number; maxOpen: number; total: number; closed: number }; close(): Promise<void> }> {
  const stats = { open: 0, maxOpen: 0, total: 0, closed: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks)));
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    stats.total++;
    stats.maxOpen = Math.max(stats.maxOpen, ++stats.open);
    socket.on("close", () => {
      sockets.delete(socket);
      stats.open--;
      stats.closed++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const echo: Handler = (req, res, body) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString() }));
};

interface Echoed {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

void test("get/post/put/patch/delete/head with params, headers, json and form bodies", async () => {
  const peer = await nodeServer(echo);
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: peer.url, headers: { "x-session": "s" } });
      const got = await (await session.get("/a?x=1", { params: { y: 2, z: "a b" }, headers: { "x-req": "r" } })).json<Echoed>();
      assert.equal(got.method, "GET");
      assert.equal(got.url, "/a?x=1&y=2&z=a+b");
      assert.equal(got.headers["x-session"], "s");
      assert.equal(got.headers["x-req"], "r");
      const posted = await (await session.post("/p", { json: { a: [1, 2] } })).json<Echoed>();
      assert.equal(posted.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(posted.body), { a: [1, 2] });
      const form = await (await session.put("/f", { data: { name: "ada lovelace", n: "1" } })).json<Echoed>();
      assert.equal(form.method, "PUT");
      assert.equal(form.headers["content-type"], "application/x-www-form-urlencoded");
      assert.equal(form.body, "name=ada+lovelace&n=1");
      assert.equal((await (await session.patch("/x", { data: "raw" })).json<Echoed>()).body, "raw");
      assert.equal((await (await session.delete("/x")).json<Echoed>()).method, "DELETE");
      const head = await session.head("/x");
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("Content-Type"), "application/json");
      assert.equal((await head.bytes()).length, 0);
    });
  } finally {
    await peer.close();
  }
});

void test("streamed uploads send an async iterable's chunks; for await reads the body as it arrives", async () => {
  const peer = await nodeServer((req, res, body) => {
    if (req.url === "/chunks") {
      res.write("one,");
      setTimeout(() => res.end("two"), 10);
      return;
    }
    res.end(`${body.length}:${body.toString()}`);
  });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: peer.url });
      async function* parts(): AsyncGenerator<string> {
        for (const p of ["a", "b", "c"]) {
          await sleep(0.001);
          yield p;
        }
      }
      assert.equal(await (await session.post("/up", { data: parts() })).text(), "3:abc");
      const chunks: string[] = [];
      for await (const chunk of await session.get("/chunks")) chunks.push(chunk.toString());
      assert.equal(chunks.join(""), "one,two");
      assert.ok(chunks.length >= 2, "the body arrived in more than one chunk");
      const resp = await session.get("/chunks");
      await resp.text();
      assert.equal(await resp.text(), "one,two"); // cached after the first read
      await assert.rejects(async () => {
        for await (const _ of resp) break;
      }, /already read/);
    });
  } finally {
    await peer.close();
  }
});

void test("raiseForStatus throws ClientResponseError with the status; ok says whether it would", async () => {
  const peer = await nodeServer((_req, res) => {
    res.statusCode = 418;
    res.end("teapot");
  });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: peer.url });
      const resp = await session.get("/");
      assert.equal(resp.ok, false);
      let error: unknown = null;
      try {
        resp.raiseForStatus();
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ClientResponseError);
      assert.equal(error.status, 418);
      assert.match(error.message, /418 I'm a Teapot, GET http:\/\/127\.0\.0\.1:\d+\//i);
      const auto = await rejection(session.get("/", { raiseForStatus: true }));
      assert.ok(auto instanceof ClientResponseError);
    });
  } finally {
    await peer.close();
  }
});

void test("keep-alive reuses one connection; limit caps concurrent connections", async () => {
  const peer = await nodeServer((_req, res) => setTimeout(() => res.end("ok"), 5));
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: peer.url, limit: 2 });
      for (let i = 0; i < 10; i++) assert.equal(await (await session.get("/")).text(), "ok");
      // undici frees a connection a tick after the body ends, so a second one may open; no more.
      assert.ok(peer.stats.total <= 2, `10 sequential requests used ${peer.stats.total} connections`);
      const all = await gather(...Array.from({ length: 8 }, async () => (await session.get("/")).text()));
      assert.deepEqual(all, Array(8).fill("ok"));
      assert.equal(peer.stats.maxOpen, 2);
    });
  } finally {
    await peer.close();
  }
});

void test("timeouts: total and sockRead raise aiots TimeoutError and free the connection", async () => {
  const peer = await nodeServer((req, res) => {
    if (req.url === "/slow-body") {
      res.write("start");
      return; // never ends
    }
    // /hang: never answers
  });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: peer.url });
      const total = await rejection(session.get("/hang", { timeout: { total: 0.05 } }));
      assert.ok(total instanceof TimeoutError, String(total));
      assert.match(total.message, /total timeout/);
      const sockRead = await rejection(session.get("/hang", { timeout: { sockRead: 0.05 } }));
      assert.ok(sockRead instanceof TimeoutError, String(sockRead));
      const resp = await session.get("/slow-body", { timeout: { total: 0.1 } });
      assert.ok((await rejection(resp.text())) instanceof TimeoutError);
      for (let i = 0; i < 100 && peer.stats.open > 0; i++) await sleep(0.01);
      assert.equal(peer.stats.open, 0, "timed-out requests closed their connections");
    });
  } finally {
    await peer.close();
  }
});

void test("cancelling the calling task aborts the request at its await and frees the connection", async () => {
  const peer = await nodeServer(() => {});
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: peer.url });
      let caught: unknown = null;
      const task = createTask(async () => {
        try {
          await session.get("/hang");
        } catch (error) {
          caught = error;
          throw error;
        }
      });
      for (let i = 0; i < 100 && peer.stats.open === 0; i++) await sleep(0.01);
      assert.equal(peer.stats.open, 1);
      task.cancel();
      await rejection(task);
      assert.ok(task.cancelled());
      assert.ok(caught instanceof CancelledError);
      for (let i = 0; i < 100 && peer.stats.open > 0; i++) await sleep(0.01);
      assert.equal(peer.stats.open, 0);
      assert.equal(otherTasks(), 0);
    });
  } finally {
    await peer.close();
  }
});

void test("connection errors, bad URLs and a closed session give clear errors", async () => {
  const peer = await nodeServer(echo);
  const deadUrl = peer.url;
  await peer.close();
  await run(async () => {
    const session = new ClientSession();
    const refused = await rejection(session.get(deadUrl));
    assert.ok(refused instanceof ClientConnectionError, String(refused));
    await assert.rejects(session.get("not a url"), TypeError);
    await assert.rejects(session.get("ftp://127.0.0.1/"), /speaks http: and https:/);
    await assert.rejects(session.post(deadUrl, { json: 1, data: "x" }), /either json or data/);
    assert.throws(() => new ClientSession({ limit: 0 }), RangeError);
    assert.throws(() => new ClientSession({ timeout: { total: -1 } }), /timeout.total must be a positive number/);
    assert.match(String(session), /<ClientSession #\d+ open/);
    await session.close();
    assert.equal(session.closed, true);
    await assert.rejects(session.get(deadUrl), /closed/);
  });
});

void test("timeouts: connect raises TimeoutError when the server never accepts", async () => {
  // A Python socket listening with backlog 0 that never accepts: once its accept queue is full,
  // the kernel drops further SYNs, so a new connection hangs in the handshake.
  const listener = spawn("/usr/bin/python3", ["-c", "import socket,sys,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const fillers: Socket[] = [];
  try {
    const port = await new Promise<number>((resolve) => createInterface({ input: listener.stdout }).once("line", (line) => resolve(Number(line))));
    for (let i = 0; i < 4; i++) fillers.push(netConnect(port, "127.0.0.1").on("error", () => {}));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await run(async () => {
      await using session = new ClientSession({ timeout: { connect: 0.2 } });
      const error = await rejection(session.get(`http://127.0.0.1:${port}/`));
      assert.ok(error instanceof TimeoutError, String(error));
      assert.match(error.message, /connect timeout/);
    });
  } finally {
    for (const socket of fillers) socket.destroy();
    listener.kill("SIGKILL");
  }
});
