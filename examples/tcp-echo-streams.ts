/**
 * TCP echo server and client with streams (asyncio docs: "TCP echo client/server using streams").
 * Run: node examples/tcp-echo-streams.ts [port]
 */
import { run, startServer, openConnection, type StreamReader, type StreamWriter } from "../src/index.ts";

async function handleEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const data = await reader.read(100);
  const message = data.toString();
  const addr = writer.getExtraInfo("peername");
  console.log(`Received ${JSON.stringify(message)} from ${JSON.stringify(addr)}`);
  console.log(`Send: ${JSON.stringify(message)}`);
  writer.write(data);
  await writer.drain();
  console.log("Close the connection");
  writer.close();
  await writer.waitClosed();
}

async function tcpEchoClient(message: string, host: string, port: number): Promise<void> {
  const [reader, writer] = await openConnection(host, port);
  console.log(`Send: ${JSON.stringify(message)}`);
  writer.write(Buffer.from(message));
  await writer.drain();
  const data = await reader.read(100);
  console.log(`Received: ${JSON.stringify(data.toString())}`);
  console.log("Close the connection");
  writer.close();
  await writer.waitClosed();
}

await run(async () => {
  await using server = await startServer(handleEcho, "127.0.0.1", Number(process.argv[2] ?? 0));
  const [host, port] = server.sockets[0]!.getsockname() as [string, number];
  console.log(`Serving on ${host}:${port}`);
  await tcpEchoClient("Hello World!", host, port);
});
