/**
 * TCP echo server and client with protocols (asyncio docs: "TCP Echo Server/Client" using
 * loop.create_server / loop.create_connection). Run: node examples/tcp-echo-protocol.ts [port]
 */
import { run, getRunningLoop, Protocol, type Transport } from "../src/index.ts";

class EchoServerProtocol extends Protocol {
  transport!: Transport;
  override connectionMade(transport: Transport): void {
    console.log("Connection from", transport.getExtraInfo("peername"));
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    console.log("Data received:", JSON.stringify(data.toString()));
    console.log("Send:", JSON.stringify(data.toString()));
    this.transport.write(data);
    console.log("Close the client socket");
    this.transport.close();
  }
}

class EchoClientProtocol extends Protocol {
  readonly message: string;
  readonly onConLost: ReturnType<ReturnType<typeof getRunningLoop>["createFuture"]>;
  constructor(message: string) {
    super();
    this.message = message;
    this.onConLost = getRunningLoop().createFuture();
  }
  override connectionMade(transport: Transport): void {
    transport.write(Buffer.from(this.message));
    console.log("Data sent:", JSON.stringify(this.message));
  }
  override dataReceived(data: Buffer): void {
    console.log("Data received:", JSON.stringify(data.toString()));
  }
  override connectionLost(): void {
    console.log("The server closed the connection");
    this.onConLost.setResult(true);
  }
}

async function main(port: number): Promise<void> {
  const loop = getRunningLoop();
  await using server = await loop.createServer(() => new EchoServerProtocol(), "127.0.0.1", port);
  const [host, actualPort] = server.sockets[0]!.getsockname() as [string, number];
  const [transport, protocol] = await loop.createConnection(() => new EchoClientProtocol("Hello World!"), host, actualPort);
  try {
    await protocol.onConLost;
  } finally {
    transport.close();
  }
}

await run(() => main(Number(process.argv[2] ?? 0)));
