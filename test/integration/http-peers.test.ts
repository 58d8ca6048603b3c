/**
 * Integration: aiots/http and aiots/ws against real peers — curl, Python's aiohttp client and
 * server, Python's websockets client (Debian's /usr/bin/python3, see scripts/install-test-deps.sh).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { run, sleep } from "../../src/index.ts";
import { Application, ClientSession, json, text } from "../../src/http.ts";
import { connect } from "../../src/ws.ts";
import { otherTasks, serveApp } from "../helpers/http.ts";

const execFileP = promisify(execFile);
const PYTHON = "/usr/bin/python3";

function peerApp(): Application {
  const app = new Application({ maxBodySize: 1000 });
  app.get("/hello", () => json({ message: "Hello, aiots !" }));
  app.post("/echo", async (r) => json({ got: await r.json(), q: r.query.get("q") }));
  app.post("/upload", async (r) => text(`${(await r.bytes()).length}`));
  app.websocket("/echo", async (_r, ws) => {
    for await (const m of ws) await ws.send(m);
  });
  return app;
}

void test("curl: GET json, POST json, 413 over the limit, 404", async () => {
  await run(async () => {
    await using served = await serveApp(peerApp());
    const curl = async (...args: string[]): Promise<string> => (await execFileP("curl", ["-s", ...args])).stdout;
    assert.equal(await curl(`${served.url}/hello`), '{"message":"Hello, aiots !"}');
    const posted = await curl("-X", "POST", "-H", "content-type: application/json", "-d", '{"a":1}', `${served.url}/echo?q=z`);
    assert.deepEqual(JSON.parse(posted), { got: { a: 1 }, q: "z" });
    assert.equal(await curl("-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "x".repeat(2000), `${served.url}/upload`), "413");
    assert.equal(await curl("-o", "/dev/null", "-w", "%{http_code}", `${served.url}/missing`), "404");
    const head = await curl("-I", `${served.url}/hello`);
    assert.match(head, /^HTTP\/1\.1 200 OK/);
    assert.match(head, /content-type: application\/json/i);
  });
});

const AIOHTTP_CLIENT = `
import asyncio, json, sys, aiohttp
async def main(base):
    async with aiohttp.ClientSession() as s:
        async with s.get(base + "/hello") as r:
            print(r.status, json.dumps(await r.json()))
        async with s.post(base + "/echo", json={"n": [1, 2]}, params={"q": "p"}) as r:
            print(r.status, json.dumps(await r.json(), sort_keys=True))
        async with s.post(base + "/upload", data=b"x" * 5000) as r:
            print(r.status)
        async with s.ws_connect(base + "/echo") as ws:
            await ws.send_str("via aiohttp")
            print((await ws.receive()).data)
            await ws.close(code=4001)
            print(ws.close_code)
asyncio.run(main(sys.argv[1]))
`;

void test("Python aiohttp client: json, params, 413, and a WebSocket whose close code is echoed", async () => {
  await run(async () => {
    await using served = await serveApp(peerApp());
    const { stdout } = await execFileP(PYTHON, ["-c", AIOHTTP_CLIENT, served.url]);
    assert.deepEqual(stdout.trim().split("\n"), [
      '200 {"message": "Hello, aiots !"}',
      '200 {"got": {"n": [1, 2]}, "q": "p"}',
      "413",
      "via aiohttp",
      "4001",
    ]);
  });
});

const WEBSOCKETS_CLIENT = `
import asyncio, sys, websockets
async def main(url):
    async with websockets.connect(url) as ws:
        await ws.send("text")
        print(await ws.recv())
        await ws.send(b"\\x00\\x01")
        print(repr(await ws.recv()))
        await ws.close(code=1000, reason="done")
        print(ws.close_code, ws.close_reason)
asyncio.run(main(sys.argv[1]))
`;

void test("Python websockets client: text and bytes echoed, normal close answered with 1000", async () => {
  await run(async () => {
    await using served = await serveApp(peerApp());
    const { stdout } = await execFileP(PYTHON, ["-c", WEBSOCKETS_CLIENT, `${served.wsUrl}/echo`]);
    assert.deepEqual(stdout.trim().split("\n"), ["text", "b'\\x00\\x01'", "1000 done"]);
    for (let i = 0; i < 100 && served.server.activeTasks > 0; i++) await sleep(0.01);
    assert.equal(served.server.activeTasks, 0);
  });
});

const AIOHTTP_SERVER = `
import asyncio, sys
from aiohttp import web
async def hello(request):
    return web.json_response({"from": "aiohttp", "q": request.query.get("q")})
async def echo(request):
    return web.json_response({"body": await request.json()})
async def ws_echo(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        await ws.send_str("aiohttp says " + msg.data)
    return ws
async def main():
    app = web.Application()
    app.add_routes([web.get("/hello", hello), web.post("/echo", echo), web.get("/ws", ws_echo)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
`;

void test("aiots client against a Python aiohttp server: HTTP and WebSocket", async () => {
  const child = spawn(PYTHON, ["-c", AIOHTTP_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", (line) => resolve(Number(line)));
      child.once("exit", (code) => reject(new Error(`the aiohttp server exited with ${code}`)));
    });
    await run(async () => {
      const base = `http://127.0.0.1:${port}`;
      await using session = new ClientSession({ baseUrl: base });
      assert.deepEqual(await (await session.get("/hello", { params: { q: "x" } })).json(), { from: "aiohttp", q: "x" });
      assert.deepEqual(await (await session.post("/echo", { json: { k: [true] } })).json(), { body: { k: [true] } });
      const ws = await connect(`ws://127.0.0.1:${port}/ws`);
      await ws.send("hi");
      assert.equal(await ws.recv(), "aiohttp says hi");
      await ws.close(1000);
      assert.equal(ws.closeCode, 1000);
      await session.close();
      assert.equal(otherTasks(), 0);
    });
  } finally {
    child.kill("SIGTERM");
  }
});
