/**
 * aiots HTTP server for the benchmark, with every feature of aiots/http in place (the same
 * Application serves static files and TLS). `server-aiots.ts [hello|static|https]`:
 * - hello: `GET /` → "Hello, World!";
 * - static: `app.static("/", $AIOTS_BENCH_DIR)` (the 1 MiB file case);
 * - https: hello over TLS with `$AIOTS_BENCH_DIR/server.pem` and `server.key`.
 * Prints its port on the first stdout line; runs until killed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../src/index.ts";
import { Application, text } from "../../src/http.ts";

const mode = process.argv[2] ?? "hello";
const dir = process.env.AIOTS_BENCH_DIR ?? "";
const app = new Application();
if (mode === "static") app.static("/", dir);
else app.get("/", () => text("Hello, World!"));
const ssl = mode === "https" ? { cert: readFileSync(join(dir, "server.pem")), key: readFileSync(join(dir, "server.key")) } : undefined;
await run(async () => {
  await app.serveForever({
    host: "127.0.0.1",
    port: 0,
    backlog: 2048,
    ssl,
    onReady: (server) => console.log((server.sockets[0]!.getsockname() as [string, number])[1]),
  });
});
