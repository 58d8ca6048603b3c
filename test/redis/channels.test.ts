// redisChannels: app.channels across two applications (two processes' worth of state) on one Redis.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { run, sleep, timeout } from "../../src/index.ts";
import { Application, type HttpServer } from "../../src/http.ts";
import { connect, type WebSocket } from "../../src/ws.ts";
import { RedisChannels, redisChannels } from "../../src/redis.ts";
import { RedisServer, freePort } from "../helpers/redis.ts";
import { rejection } from "../helpers/index.ts";

let server: RedisServer;

function chatApp(channels: RedisChannels): Application<RedisChannels> {
  const app = new Application({ channels });
  app.websocket("/room/:name", async (request, ws) => {
    await app.channels.join(request.params.name!, ws);
    await ws.send("joined");
    for await (const message of ws) {
      if (message === "leave") {
        await app.channels.leave(request.params.name!, ws);
        await ws.send("left");
      } else {
        await app.channels.broadcast(request.params.name!, message);
      }
    }
  });
  return app;
}

function portOf(served: HttpServer): number {
  return (served.sockets[0]!.getsockname() as [string, number])[1];
}

async function joinRoom(port: number, room: string): Promise<WebSocket> {
  const ws = await connect(`ws://127.0.0.1:${port}/room/${room}`);
  assert.equal(await ws.recv(), "joined");
  return ws;
}

void describe("redisChannels", () => {
  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await server.stop();
  });

  void test("a broadcast in one application reaches the group's members in the other, text and binary", async () => {
    await run(async () => {
      await using one = redisChannels({ url: server.url, prefix: "t1:" });
      await using two = redisChannels({ url: server.url, prefix: "t1:" });
      const appOne = chatApp(one);
      const appTwo = chatApp(two);
      await using servedOne = await appOne.serve({ host: "127.0.0.1", port: 0 });
      await using servedTwo = await appTwo.serve({ host: "127.0.0.1", port: 0 });
      const a = await joinRoom(portOf(servedOne), "red");
      const b = await joinRoom(portOf(servedTwo), "red");
      const c = await joinRoom(portOf(servedTwo), "blue");
      assert.deepEqual(appTwo.channels.names().sort(), ["blue", "red"]);
      assert.equal(appOne.channels.members("red").length, 1);

      await a.send("hello from one");
      assert.equal(await timeout(5, () => a.recv()), "hello from one");
      assert.equal(await timeout(5, () => b.recv()), "hello from one");
      // Two processes are subscribed to "red": the publish reached both.
      assert.equal(await appTwo.channels.broadcast("red", Buffer.from([0, 1, 2, 255])), 2);
      assert.deepEqual(await timeout(5, () => a.recv()), Buffer.from([0, 1, 2, 255]));
      assert.deepEqual(await timeout(5, () => b.recv()), Buffer.from([0, 1, 2, 255]));
      assert.equal(await appOne.channels.broadcast("blue", "to blue"), 1);
      assert.equal(await timeout(5, () => c.recv()), "to blue");

      // Leaving (and closing) unsubscribes a process that has no member left.
      await b.send("leave");
      assert.equal(await b.recv(), "left");
      assert.equal(await appOne.channels.broadcast("red", "only a"), 1);
      assert.equal(await timeout(5, () => a.recv()), "only a");
      await a.close();
      for (let i = 0; i < 100 && appOne.channels.members("red").length > 0; i++) await sleep(0.02);
      await sleep(0.1);
      assert.equal(await appTwo.channels.broadcast("red", "nobody"), 0);
      assert.match(inspect(two), /^<RedisChannels redis:\/\/127\.0\.0\.1:\d+\/? blue=1>$/);
      await b.close();
      await c.close();
    });
  });

  void test("bad input and an unreachable Redis give clear errors", async () => {
    await run(async () => {
      assert.throws(() => redisChannels({ url: "localhost:6379" }), /not a Redis URL|not a URL/);
      assert.throws(() => redisChannels(undefined as never), /options with a url are required/);
      await using channels = redisChannels({ url: server.url });
      await assert.rejects(channels.broadcast("x", 42 as never), TypeError);
      const port = await freePort();
      await using gone = redisChannels({ url: `redis://127.0.0.1:${port}`, connectTimeout: 0.5 });
      const error = (await rejection(timeout(10, () => gone.broadcast("x", "y")))) as Error;
      assert.match(error.message, /redisChannels\(\): cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+\/? within 0\.5 s/);
      await gone.close();
      await assert.rejects(gone.broadcast("x", "y"), /redisChannels\(\) is closed/);
    });
  });
});
