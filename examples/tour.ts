/**
 * The aiots tour (`npm start`): the six live demos, on localhost and offline, in about 10 seconds.
 *
 *   npm start                       # or: node examples/tour.ts
 *   node examples/tour.ts --forever # keep the server and the feed client running until Ctrl-C
 *   node examples/tour.ts --quick   # a ~3 s run (the feed ticks every 0.2 s), used by the tests
 */
import { KeyboardInterrupt, createTask, gather, getRunningLoop, run } from "../src/index.ts";
import { fastLoopDemo } from "./fast-loop.ts";
import { httpGatherDemo } from "./http-gather.ts";
import { createApp } from "./server.ts";
import { tasksDemo } from "./tasks.ts";
import { wsClientDemo } from "./ws-client.ts";
import { wsEventsDemo } from "./ws-events.ts";

const forever = process.argv.includes("--forever");
const quick = process.argv.includes("--quick");
const interval = quick ? 0.2 : 1; // seconds between feed messages
const print = (line: string): void => console.log(line);
const heading = (n: number, title: string, what: string): void => {
  print("");
  print(`[${n}] ${title}`);
  print(`    ${what}`);
};

try {
  await run(tour);
} catch (error) {
  if (!(error instanceof KeyboardInterrupt)) throw error;
  print("interrupted: the server was closed gracefully and every task cancelled");
}

async function tour(): Promise<void> {
  const loop = getRunningLoop();
  const started = loop.time();
  print("aiots tour: Python's asyncio, done right for TypeScript on Node.js");
  print(forever ? "(--forever: the server keeps running; Ctrl-C stops it gracefully)" : "(stops by itself after about 10 seconds; --forever keeps it running)");

  heading(1, "two tasks at different rates", "createTask() runs each concurrently; sleep() yields; cancel() lands at the await");
  await tasksDemo({ seconds: quick ? 0.5 : 1.2, print });

  heading(5, "the loop itself", "task switches and spawns beside setImmediate and raw promises (warmed up, alternated)");
  await fastLoopDemo({ quick, print });

  heading(3, "a server: JSON route and WebSocket /feed", "app.get() and app.websocket(); each request is its own task");
  // `await using`: however the tour ends (Ctrl-C included), the server shuts down gracefully.
  await using server = await createApp({ interval }).serve({ host: "127.0.0.1", port: forever ? 8000 : 0 });
  const [host, port] = server.sockets[0]!.getsockname() as [string, number];
  print(`    serving on http://${host}:${port}/ (JSON) and ws://${host}:${port}/feed (one event every ${interval} s)`);

  heading(2, "ten concurrent GETs", "gather() over session.get() on one pooled ClientSession");
  await httpGatherDemo(`http://${host}:${port}`, print);

  const feedSeconds = forever ? null : quick ? 1.1 : 6.5;
  const events = quick ? 3 : 6;
  heading(4, "a WebSocket client", `for await over the /feed messages${forever ? "" : ` for ${feedSeconds} s`}`);
  print(`[6] an async generator of parsed events`);
  print(`    feedEvents() yields JSON-parsed events; the consumer stops after ${events} (break closes the socket)`);
  const tag = (label: string) => (line: string) => print(`${label}${line.slice(3)}`);
  // Two tasks (not two promises of one task), so the client's timeout cancels only its own work.
  await gather(
    createTask(() => wsClientDemo(`ws://${host}:${port}/feed`, feedSeconds, tag("[4]")), { name: "feed-client" }),
    createTask(() => wsEventsDemo(`ws://${host}:${port}/feed`, events, tag("[6]")), { name: "feed-events" }),
  );

  print("");
  print("shutting down: server.close() lets running handlers finish, then cancels the rest");
  server.close();
  await server.waitClosed();
  print(`done in ${(loop.time() - started).toFixed(1)} s: every task finished, every socket closed`);
}
