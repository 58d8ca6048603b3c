/**
 * Connection-scaling peer: `conns.ts <aiots|node|asyncio|uvloop> <connections> <seconds>` starts
 * that echo server in its own process, drives it with the C client (bench/.build/scaling/client-conns,
 * `connections` concurrent request/response connections, 1 KiB messages) and reports round
 * trips per second, with the server's and the client's CPU seconds and the server's peak RSS.
 * Each server gets an unrecorded half-second warm-up first; serverCpu includes it.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { processCpuSeconds, runMeasured } from "../harness/measure.ts";

// the last argument wins: --quick appends "1" (seconds) after the suite's "2"
const [kind = "node", connsArg = "10", ...rest] = process.argv.slice(2);
const secondsArg = rest.at(-1) ?? "2";
const servers: Record<string, string[]> = {
  aiots: [process.execPath, "bench/scaling/echo-server-aiots.ts"],
  node: [process.execPath, "bench/scaling/echo-server-node.ts"],
  asyncio: ["/usr/bin/python3", "bench/scaling/echo_server.py"],
  uvloop: ["/usr/bin/python3", "bench/scaling/echo_server.py", "uvloop"],
};
const argv = servers[kind];
if (argv === undefined) throw new TypeError(`server kind must be one of ${Object.keys(servers).join(", ")}, got ${kind}`);

function peakRssBytes(pid: number): number | undefined {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : undefined;
}

const server = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
const exited = once(server, "exit");
try {
  const lines = createInterface({ input: server.stdout });
  const [first] = (await Promise.race([once(lines, "line"), exited.then(() => [null])])) as [string | null];
  if (first === null) throw new Error(`the ${kind} echo server exited before printing its port`);
  const clientArgv = ["bench/.build/scaling/client-conns", "127.0.0.1", first.trim(), connsArg];
  const messageBytes = "1024"; // the size of the ANCHORS.md TCP echo row
  // An unrecorded warm-up whose connections then close: a fresh CPython server runs ~3x slower
  // until its first connections have closed (an allocator effect, see ANCHORS.md).
  await runMeasured([...clientArgv, "0.5", messageBytes, "0"]);
  const client = await runMeasured([...clientArgv, secondsArg, messageBytes]);
  const result = JSON.parse(client.stdout.trim()) as { perSecond: number };
  const serverCpu = processCpuSeconds(server.pid!);
  const rssBytes = peakRssBytes(server.pid!);
  process.stdout.write(
    `${JSON.stringify({ value: result.perSecond, rssBytes, extra: { serverCpu, clientCpu: client.cpuSec, connections: Number(connsArg) } })}\n`,
  );
} finally {
  server.kill("SIGKILL");
  await exited;
}
