/**
 * aiots echo server in vmbench's shape: `server-aiots.ts <streams|protocol>`. Streams: read up to
 * 100 KiB, write it back, no drain() (vmbench's streams server does not await it; with one message
 * in flight per connection the buffer never grows). Protocol: write from dataReceived. TCP_NODELAY
 * on, as vmbench sets it. Prints its port, then serves until killed.
 */
import { getRunningLoop, Protocol, run, startServer, type StreamReader, type StreamWriter, type Transport } from "../../src/index.ts";

const mode = process.argv[2] ?? "streams";
if (mode !== "streams" && mode !== "protocol") throw new TypeError(`mode must be streams or protocol, got ${mode}`);

async function echo(reader: StreamReader, writer: StreamWriter): Promise<void> {
  try {
    for (;;) {
      const data = await reader.read(102_400);
      if (data.length === 0) break;
      writer.write(data);
    }
  } catch (error) {
    // the load client resets its connections when its time is up
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ECONNRESET" && code !== "EPIPE") throw error;
  }
  writer.close();
}

class Echo extends Protocol {
  transport!: Transport;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

await run(async () => {
  const server = mode === "streams" ? await startServer(echo, "127.0.0.1", 0) : await getRunningLoop().createServer(() => new Echo(), "127.0.0.1", 0);
  process.stdout.write(`${(server.sockets[0]!.getsockname() as [string, number])[1]}\n`);
  await server.serveForever();
});
