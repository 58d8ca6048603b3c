/**
 * TCP echo peer: `echo.ts <kind> <message bytes> [seconds]` starts one echo server in its own
 * process and drives it with the C client (bench/.build/echo/client: 10 connections, strict
 * request/response, every byte verified) after an unrecorded 0.5 s warm-up on connections that are
 * then closed, and 0.2 s more on the measured ones. Reports requests per
 * second, with p50/p99 latency and the server's and client's CPU seconds.
 *
 * kinds: aiots-protocol, aiots-streams, node, asyncio-streams, asyncio-protocol, uvloop-streams,
 * uvloop-protocol.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { processCpuSeconds, runMeasured } from "../harness/measure.ts";

const [kind = "node", bytes = "1024", seconds = "5"] = process.argv.slice(2); // --quick appends "2"
const python = "/usr/bin/python3";
const servers: Record<string, string[]> = {
  "aiots-protocol": [process.execPath, "bench/echo/server-aiots-protocol.ts"],
  "aiots-streams": [process.execPath, "bench/echo/server-aiots-streams.ts"],
  node: [process.execPath, "bench/echo/server-node.ts"],
  "asyncio-streams": [python, "bench/echo/server_asyncio.py", "streams"],
  "asyncio-protocol": [python, "bench/echo/server_asyncio.py", "protocol"],
  "uvloop-streams": [python, "bench/echo/server_asyncio.py", "streams", "uvloop"],
  "uvloop-protocol": [python, "bench/echo/server_asyncio.py", "protocol", "uvloop"],
};
const argv = servers[kind];
if (argv === undefined) throw new TypeError(`server kind must be one of ${Object.keys(servers).join(", ")}, got ${kind}`);

const server = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
const exited = once(server, "exit");
try {
  const lines = createInterface({ input: server.stdout });
  const [first] = (await Promise.race([once(lines, "line"), exited.then(() => [null])])) as [string | null];
  if (first === null) throw new Error(`the ${kind} echo server exited before printing its port`);
  // Warm-up on connections that then close: a fresh CPython server runs ~3x slower until its first
  // connection closes (an allocator effect, ANCHORS.md); JITs warm up too. Not recorded.
  await runMeasured(["bench/.build/echo/client", "127.0.0.1", first.trim(), "10", "0.5", bytes, "0"]);
  const client = await runMeasured(["bench/.build/echo/client", "127.0.0.1", first.trim(), "10", seconds, bytes, "0.2"]);
  const result = JSON.parse(client.stdout.trim()) as { perSecond: number; p50Ms: number; p99Ms: number };
  const serverCpu = processCpuSeconds(server.pid!);
  process.stdout.write(
    `${JSON.stringify({ value: result.perSecond, extra: { p50Ms: result.p50Ms, p99Ms: result.p99Ms, serverCpu, clientCpu: client.cpuSec } })}\n`,
  );
} finally {
  server.kill("SIGKILL");
  await exited;
}
