/** aiots streams echo server: startServer, read(64 KiB), write, await drain() every time. Prints its port. */
import { run, startServer, type StreamReader, type StreamWriter } from "../../src/index.ts";

async function echo(reader: StreamReader, writer: StreamWriter): Promise<void> {
  try {
    for (;;) {
      const data = await reader.read(65536);
      if (data.length === 0) break;
      writer.write(data);
      await writer.drain();
    }
  } catch (error) {
    // The load client resets its connections when its time is up.
    if ((error as NodeJS.ErrnoException).code !== "ECONNRESET") throw error;
  }
  writer.close();
}

await run(async () => {
  const server = await startServer(echo, "127.0.0.1", 0);
  process.stdout.write(`${(server.sockets[0]!.getsockname() as [string, number])[1]}\n`);
  await server.serveForever();
});
