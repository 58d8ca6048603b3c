/**
 * The client against a real peer, Python's aiohttp server (Debian's python3-aiohttp): multipart
 * uploads parsed by aiohttp, its compressed responses, its redirects and cookies, and keep-alive
 * counted on its side.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { run } from "../../src/index.ts";
import { ClientSession } from "../../src/http.ts";
import { otherTasks } from "../helpers/http.ts";

const SERVER = `
import asyncio, json
from aiohttp import web
transports = set()
async def form(request):
    transports.add(id(request.transport))
    data = await request.post()
    out = {}
    for key in data:
        value = data[key]
        if isinstance(value, web.FileField):
            body = value.file.read()
            out[key] = {"filename": value.filename, "type": value.content_type, "size": len(body), "head": body[:5].decode("latin1")}
        else:
            out[key] = value
    return web.json_response(out)
async def compressed(request):
    transports.add(id(request.transport))
    resp = web.json_response({"big": "z" * 5000})
    resp.enable_compression()
    return resp
async def hop(request):
    transports.add(id(request.transport))
    raise web.HTTPFound("/landing")
async def landing(request):
    transports.add(id(request.transport))
    resp = web.json_response({"cookies": dict(request.cookies), "ua": request.headers.get("User-Agent")})
    resp.set_cookie("visited", "yes", path="/")
    return resp
async def conns(request):
    return web.json_response({"connections": len(transports)})
async def main():
    app = web.Application()
    app.add_routes([web.post("/form", form), web.get("/compressed", compressed), web.get("/hop", hop),
                    web.get("/landing", landing), web.get("/conns", conns)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
`;

void test("against Python's aiohttp server: FormData multipart, compression, redirects, cookies, one kept-alive connection", async () => {
  const child = spawn("/usr/bin/python3", ["-c", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", (line) => resolve(Number(line)));
      child.once("exit", (code) => reject(new Error(`the aiohttp server exited with ${code}`)));
    });
    await run(async () => {
      await using session = new ClientSession({ baseUrl: `http://127.0.0.1:${port}` });
      const form = new FormData();
      form.append("title", "holiday ünïcode");
      form.append("photo", new Blob([Buffer.concat([Buffer.from([0x89]), Buffer.from("PNG\r\n binary")])], { type: "image/png" }), "beach.png");
      form.append("notes", new File(["plain text"], "notes.txt", { type: "text/plain" }));
      const parsed = await (await session.post("/form", { data: form })).json();
      assert.deepEqual(parsed, {
        title: "holiday ünïcode",
        photo: { filename: "beach.png", type: "image/png", size: 13, head: "\x89PNG\r" },
        notes: { filename: "notes.txt", type: "text/plain", size: 10, head: "plain" },
      });

      const compressed = await session.get("/compressed");
      assert.match(compressed.headers["Content-Encoding"] ?? "", /^(gzip|deflate|br)$/, "aiohttp compressed for our Accept-Encoding");
      assert.equal((await compressed.json<{ big: string }>()).big.length, 5000);

      const landed = await session.get("/hop");
      assert.equal(landed.url.pathname, "/landing");
      assert.deepEqual(landed.history.map((r) => r.status), [302]);
      const first = await landed.json<{ cookies: Record<string, string>; ua: string }>();
      assert.deepEqual(first.cookies, {});
      assert.match(first.ua, /^aiots\/\d+\.\d+\.\d+/);
      assert.deepEqual(landed.cookies, { visited: "yes" });
      const again = await (await session.get("/landing")).json<{ cookies: Record<string, string> }>();
      assert.deepEqual(again.cookies, { visited: "yes" }, "aiohttp's Set-Cookie came back from the jar");

      assert.deepEqual(await (await session.get("/conns")).json(), { connections: 1 });
      await session.close();
      assert.equal(otherTasks(), 0);
    });
  } finally {
    child.kill("SIGTERM");
  }
});
