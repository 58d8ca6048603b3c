/**
 * UDP echo server and client (asyncio docs: "UDP Echo Server/Client" using
 * loop.create_datagram_endpoint). Run: node examples/udp-echo.ts [port]
 */
import { run, getRunningLoop, DatagramProtocol, type DatagramTransport, type Future } from "../src/index.ts";

class EchoServerProtocol extends DatagramProtocol {
  transport!: DatagramTransport;
  override connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
  }
  override datagramReceived(data: Buffer, addr: [string, number]): void {
    console.log(`Received ${JSON.stringify(data.toString())} from ${JSON.stringify(addr)}`);
    console.log(`Send ${JSON.stringify(data.toString())} to ${JSON.stringify(addr)}`);
    this.transport.sendto(data, addr);
  }
}

class EchoClientProtocol extends DatagramProtocol {
  readonly message: string;
  readonly onConLost: Future<boolean>;
  transport!: DatagramTransport;
  constructor(message: string, onConLost: Future<boolean>) {
    super();
    this.message = message;
    this.onConLost = onConLost;
  }
  override connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
    console.log("Send:", JSON.stringify(this.message));
    transport.sendto(Buffer.from(this.message));
  }
  override datagramReceived(data: Buffer): void {
    console.log("Received:", JSON.stringify(data.toString()));
    console.log("Close the socket");
    this.transport.close();
  }
  override errorReceived(exc: Error): void {
    console.log("Error received:", exc.message);
  }
  override connectionLost(): void {
    console.log("Connection closed");
    this.onConLost.setResult(true);
  }
}

await run(async () => {
  const loop = getRunningLoop();
  const [server] = await loop.createDatagramEndpoint(() => new EchoServerProtocol(), { localAddr: ["127.0.0.1", Number(process.argv[2] ?? 0)] });
  const [host, port] = server.getExtraInfo("sockname") as [string, number];
  console.log(`Starting UDP server on ${host}:${port}`);
  const onConLost = loop.createFuture<boolean>();
  const [transport] = await loop.createDatagramEndpoint(() => new EchoClientProtocol("Hello World!", onConLost), { remoteAddr: [host, port] });
  try {
    await onConLost;
  } finally {
    transport.close();
    server.close();
  }
});
