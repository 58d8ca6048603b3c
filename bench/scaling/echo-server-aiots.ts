/**
 * Echo server on aiots streams for the connection-scaling cases: reads, writes back, awaits
 * drain() after every write. Listens on 127.0.0.1, an ephemeral port, printed as the first
 * stdout line; runs until killed. The accept backlog is 2048, as the asyncio/uvloop peer's (the
 * default 100 makes the client's 1,000 blocking connects wait out SYN retries).
 */
import { run, startServer } from "../../src/index.ts";

await run(async () => {
  const server = await startServer(async (reader, writer) => {
    try {
      for (;;) {
        const data = await reader.read(65536);
        if (data.length === 0) break;
        writer.write(data);
        await writer.drain();
      }
    } catch (e) {
      // the load client closes with echoes in flight: a reset is the normal end here
      const code = (e as { code?: unknown }).code;
      if (code !== "ECONNRESET" && code !== "EPIPE") throw e;
    } finally {
      writer.close();
    }
  }, "127.0.0.1", 0, { backlog: 2048 });
  const [, port] = server.sockets[0]!.getsockname() as [string, number];
  process.stdout.write(`${port}\n`);
  await server.serveForever();
});
