/**
 * Demo 4 — a WebSocket client printing what the feed sends, with `for await`.
 *
 *   node examples/ws-client.ts                           # starts the demo server itself
 *   node examples/ws-client.ts --quick                   # the same, a feed every 0.1 s
 *   node examples/ws-client.ts ws://127.0.0.1:8000/feed  # or reads a running one
 */
import { run, timeout, TimeoutError } from "../src/index.ts";
import { connect } from "../src/ws.ts";
import { createApp } from "./server.ts";

/** Prints feed messages for `seconds` seconds (or forever with `null`), then closes with 1000. */
export async function wsClientDemo(url: string, seconds: number | null, print: (line: string) => void = console.log): Promise<number> {
  await using ws = await connect(url);
  let count = 0;
  try {
    await timeout(seconds, async () => {
      for await (const message of ws) {
        count++;
        print(`    received ${String(message)}`);
      }
    });
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
  }
  return count;
}

if (import.meta.main) {
  await run(async () => {
    const given = process.argv[2];
    if (given !== undefined && given !== "--quick") {
      await wsClientDemo(given, null);
      return;
    }
    const quick = process.argv.includes("--quick"); // a feed every 0.1 s, for the tests
    await using server = await createApp({ interval: quick ? 0.1 : 1 }).serve({ host: "127.0.0.1", port: 0 });
    const [host, port] = server.sockets[0]!.getsockname() as [string, number];
    await wsClientDemo(`ws://${host}:${port}/feed`, quick ? 0.35 : 3.5);
  });
}
