/**
 * aiots hello-world HTTP server for the benchmark: `GET /` → "Hello, World!". Prints its port on
 * the first stdout line; runs until killed.
 */
import { run } from "../../src/index.ts";
import { Application, text } from "../../src/http.ts";

const app = new Application();
app.get("/", () => text("Hello, World!"));
await run(async () => {
  await app.serveForever({
    host: "127.0.0.1",
    port: 0,
    backlog: 2048,
    onReady: (server) => console.log((server.sockets[0]!.getsockname() as [string, number])[1]),
  });
});
