/** aiots WebSocket echo server for the benchmark (`/echo`, keepalive pings off). Port on the first stdout line. */
import { run } from "../../src/index.ts";
import { Application } from "../../src/http.ts";

const app = new Application();
app.websocket(
  "/echo",
  async (_request, ws) => {
    for await (const message of ws) await ws.send(message);
  },
  { pingInterval: null },
);
await run(async () => {
  await app.serveForever({
    host: "127.0.0.1",
    port: 0,
    backlog: 2048,
    onReady: (server) => console.log((server.sockets[0]!.getsockname() as [string, number])[1]),
  });
});
