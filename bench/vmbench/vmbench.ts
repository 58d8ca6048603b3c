/**
 * vmbench peer: `vmbench.ts <server> <streams|protocol> <message bytes> [seconds]` starts that echo
 * server (aiots, node, asyncio or uvloop) in its own process and drives it with the C client
 * (bench/.build/echo/client: 10 connections, strict request/response, every byte verified), after
 * an unrecorded 0.5 s warm-up on connections that then close. Reports requests per second with
 * p50/p99 latency, MiB/s and both sides' CPU seconds.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { processCpuSeconds, runMeasured } from "../harness/measure.ts";

// the last argument wins: --quick appends a shorter duration after the suite's own
const [kind = "node", mode = "streams", bytes = "1024", ...rest] = process.argv.slice(2);
const seconds = rest.at(-1) ?? "5";
const python = "/usr/bin/python3";
const servers: Record<string, string[]> = {
  aiots: [process.execPath, "bench/vmbench/server-aiots.ts", mode],
  node: [process.execPath, "bench/vmbench/server-node.ts"],
  asyncio: [python, "bench/vmbench/server_asyncio.py", mode],
  uvloop: [python, "bench/vmbench/server_asyncio.py", mode, "uvloop"],
};
const argv = servers[kind];
if (argv === undefined) throw new TypeError(`server must be one of ${Object.keys(servers).join(", ")}, got ${kind}`);

const server = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
const exited = once(server, "exit");
try {
  const lines = createInterface({ input: server.stdout });
  const [first] = (await Promise.race([once(lines, "line"), exited.then(() => [null])])) as [string | null];
  if (first === null) throw new Error(`the ${kind} ${mode} echo server exited before printing its port`);
  const client = ["bench/.build/echo/client", "127.0.0.1", first.trim(), "10"];
  // a fresh CPython server runs slower until its first connections close (ANCHORS.md); JITs warm up too
  await runMeasured([...client, "0.5", bytes, "0"]);
  const measured = await runMeasured([...client, seconds, bytes, "0.2"]);
  const result = JSON.parse(measured.stdout.trim()) as { perSecond: number; p50Ms: number; p99Ms: number };
  const serverCpu = processCpuSeconds(server.pid!);
  const mibPerSecond = Math.round(((result.perSecond * Number(bytes)) / 2 ** 20) * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({ value: result.perSecond, extra: { p50Ms: result.p50Ms, p99Ms: result.p99Ms, mibPerSecond, serverCpu, clientCpu: measured.cpuSec } })}\n`,
  );
} finally {
  server.kill("SIGKILL");
  await exited;
}
