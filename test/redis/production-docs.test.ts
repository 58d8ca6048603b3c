// The docs/production.md examples that need a redis-server (typecheck-only in the docs test) run
// here, as written, against a private server.
import { after, before, test } from "node:test";
import { RedisServer } from "../helpers/redis.ts";
import { runServerExamples } from "../helpers/server-examples.ts";

let server: RedisServer;
before(async () => {
  server = await RedisServer.start();
});
after(async () => {
  await server.stop();
});

void test("docs/production.md: the Redis examples run as written against a real redis-server", async () => {
  await runServerExamples({
    marker: /^<!-- docs: typecheck-only \(needs a redis-server; test\/redis\/production-docs\.test\.ts runs this block.*\) -->$/,
    what: "Redis",
    expected: 2, // the queue and the channels example
    defaultUrl: "redis://127.0.0.1:6379",
    url: server.url,
  });
});
