/**
 * Graceful shutdown on SIGTERM: a line-uppercasing TCP server that, when asked to stop, stops
 * accepting connections, lets the requests in flight finish (up to a grace period), then exits.
 *
 * Run: node examples/graceful-shutdown.ts [port]      then: kill -TERM <pid>
 */
import { Event, TimeoutError, getRunningLoop, run, sleep, startServer, waitFor, type StreamReader, type StreamWriter } from "../src/index.ts";

const GRACE_PERIOD = 5; // seconds the clients get to finish

async function handleClient(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const line of reader) {
    console.log(`request: ${line.toString().trimEnd()}`);
    await sleep(0.2); // some work
    writer.write(Buffer.from(line.toString().toUpperCase()));
    await writer.drain();
  }
  writer.close();
}

async function main(): Promise<void> {
  const loop = getRunningLoop();
  const stopping = new Event();
  loop.addSignalHandler("SIGTERM", () => stopping.set());
  loop.addSignalHandler("SIGINT", () => stopping.set());

  const server = await startServer(handleClient, "127.0.0.1", Number(process.argv[2] ?? 8888));
  const address = server.sockets[0]!.getsockname() as [string, number];
  console.log(`serving on port ${address[1]}`);

  await stopping.wait();
  console.log("shutting down: no new connections");
  server.close();
  try {
    // Clients finish their requests and hang up; past the grace period they are cut off.
    await waitFor(server.waitClosed(), GRACE_PERIOD);
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    server.abortClients();
  }
  loop.removeSignalHandler("SIGTERM");
  loop.removeSignalHandler("SIGINT");
  console.log("shutdown complete");
}

await run(main);
