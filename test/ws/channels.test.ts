import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/index.ts";
import { Application } from "../../src/http.ts";
import { Channels, connect, type WebSocket } from "../../src/ws.ts";
import { flag, serveApp } from "../helpers/http.ts";

void test("channels: join, broadcast to every member, leave, and members leave when they close", async () => {
  await run(async () => {
    const app = new Application();
    const joined: WebSocket[] = [];
    const allJoined = flag();
    app.websocket("/room/:name", async (request, ws) => {
      app.channels.join(request.params.name!, ws);
      joined.push(ws);
      if (joined.length === 3) allJoined.set();
      for await (const message of ws) {
        if (message === "leave") app.channels.leave(request.params.name!, ws);
      }
    });
    await using served = await serveApp(app);
    const a = await connect(`${served.wsUrl}/room/red`);
    const b = await connect(`${served.wsUrl}/room/red`);
    const c = await connect(`${served.wsUrl}/room/blue`);
    await allJoined.wait();
    assert.deepEqual(app.channels.names().sort(), ["blue", "red"]);
    assert.equal(app.channels.broadcast("red", "to red"), 2);
    assert.equal(await a.recv(), "to red");
    assert.equal(await b.recv(), "to red");
    assert.equal(app.channels.broadcast("blue", Buffer.from("to blue")), 1);
    assert.deepEqual(await c.recv(), Buffer.from("to blue"));
    assert.equal(app.channels.broadcast("nobody", "x"), 0);
    await b.send("leave");
    await b.send("ping"); // processed after "leave", so the server has handled it when we broadcast below
    for (let i = 0; i < 100 && app.channels.members("red").length === 2; i++) await a.ping();
    assert.equal(app.channels.members("red").length, 1);
    await a.close();
    for (let i = 0; i < 100 && app.channels.members("red").length > 0; i++) await c.ping();
    assert.deepEqual(app.channels.names(), ["blue"]);
    assert.match(String(app.channels), /<Channels blue=1>/);
    await b.close();
    await c.close();
  });
});

void test("broadcast rejects what it cannot send", () => {
  assert.throws(() => new Channels().broadcast("x", 42 as never), TypeError);
});
