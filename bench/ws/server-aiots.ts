/** aiots/ws `serve()` echo server for the benchmark: `server-aiots.ts <deflate|plain>`, keepalive off. Port on the first stdout line. */
import { run } from "../../src/index.ts";
import { serve } from "../../src/ws.ts";

const compression = process.argv[2] === "plain" ? null : "deflate";
await run(async () => {
  const server = await serve(
    async (ws) => {
      for await (const message of ws) await ws.send(message);
    },
    "127.0.0.1",
    0,
    { compression, pingInterval: null, backlog: 2048 },
  );
  console.log((server.sockets[0]!.getsockname() as [string, number])[1]);
  await server.serveForever();
});
