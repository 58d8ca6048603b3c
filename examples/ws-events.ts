/**
 * Demo 6 — an async generator that yields parsed events from a WebSocket feed, consumed with
 * `for await`. Breaking out of the loop runs the generator's `finally`, which closes the socket.
 *
 *   node examples/ws-events.ts         # starts the demo server itself
 */
import { run } from "../src/index.ts";
import { connect } from "../src/ws.ts";
import { createApp, type FeedEvent } from "./server.ts";

/** Yields the feed's events, parsed; closes the connection when the consumer stops. */
export async function* feedEvents(url: string): AsyncGenerator<FeedEvent> {
  const ws = await connect(url);
  try {
    for await (const message of ws) yield JSON.parse(String(message)) as FeedEvent;
  } finally {
    await ws.close();
  }
}

/** Consumes `count` events, printing each with the change from the previous one. */
export async function wsEventsDemo(url: string, count: number, print: (line: string) => void = console.log): Promise<void> {
  let previous: number | null = null;
  for await (const event of feedEvents(url)) {
    const change = previous === null ? "" : ` (${event.price >= previous ? "+" : ""}${(event.price - previous).toFixed(2)})`;
    print(`    event #${event.seq}: ${event.symbol} at ${event.price.toFixed(2)}${change}`);
    previous = event.price;
    if (event.seq >= count) break;
  }
}

if (import.meta.main) {
  await run(async () => {
    const quick = process.argv.includes("--quick"); // a feed every 0.1 s, for the tests
    await using server = await createApp({ interval: quick ? 0.1 : 1 }).serve({ host: "127.0.0.1", port: 0 });
    const [host, port] = server.sockets[0]!.getsockname() as [string, number];
    await wsEventsDemo(`ws://${host}:${port}/feed`, 3);
  });
}
