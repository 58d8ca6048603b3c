/** aiots protocol echo server: loop.createServer with a Protocol that writes from dataReceived. Prints its port. */
import { run, getRunningLoop, Protocol, type Transport } from "../../src/index.ts";

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
  const server = await getRunningLoop().createServer(() => new Echo(), "127.0.0.1", 0);
  process.stdout.write(`${(server.sockets[0]!.getsockname() as [string, number])[1]}\n`);
  await server.serveForever();
});
