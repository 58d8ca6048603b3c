// The docs/production.md examples that need a PostgreSQL server (typecheck-only in the docs test)
// run here, as written, against a private cluster.
import { after, before, test } from "node:test";
import { PgServer } from "../helpers/pg-server.ts";
import { runServerExamples } from "../helpers/server-examples.ts";

let server: PgServer;
before(async () => {
  server = await PgServer.start();
});
after(async () => {
  await server.stop();
});

void test("docs/production.md: the PostgreSQL examples run as written against a real PostgreSQL", async () => {
  await runServerExamples({
    marker: /^<!-- docs: typecheck-only \(needs a PostgreSQL server; test\/pg\/production-docs\.test\.ts runs this block.*\) -->$/,
    what: "PostgreSQL",
    expected: 3, // the pool, the cancellation and the LISTEN example
    defaultUrl: "postgresql://postgres@127.0.0.1:5432/postgres",
    url: server.dsn,
  });
});
