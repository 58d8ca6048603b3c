/**
 * aiots hello-world HTTP server with worker processes: `http-workers-server.ts <workers>`.
 * `GET /` → "Hello, World!". The primary logs each worker's "started, listening on ..." line on
 * stderr; AIOTS_PORT_SHARING (reuseport | cluster) picks how the workers share the port.
 */
import { run } from "../../src/index.ts";
import { Application, text } from "../../src/http.ts";

const workers = Number(process.argv[2] ?? "1");
const app = new Application();
app.get("/", () => text("Hello, World!"));
await run(async () => {
  await app.serveForever({ host: "127.0.0.1", port: 0, backlog: 2048, workers });
});
