/**
 * HTTP hello-world peer: `wrk.ts <aiots|node|aiohttp|aiohttp-uvloop> [seconds]` starts that server in
 * its own process, runs an unrecorded 1 s wrk warm-up, then `wrk -t1 -c50 -d<seconds>s` (5 s, as in
 * ANCHORS.md) and reports requests per second, with the server's CPU seconds and peak RSS.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { processCpuSeconds, runMeasured } from "../harness/measure.ts";

const [kind = "node", secondsArg = "5"] = process.argv.slice(2); // --quick appends "2"
const servers: Record<string, string[]> = {
  aiots: [process.execPath, "bench/http/server-aiots.ts"],
  node: [process.execPath, "bench/http/server-node.ts"],
  aiohttp: ["/usr/bin/python3", "bench/http/server_aiohttp.py"],
  "aiohttp-uvloop": ["/usr/bin/python3", "bench/http/server_aiohttp.py", "uvloop"],
};
const argv = servers[kind];
if (argv === undefined) throw new TypeError(`server kind must be one of ${Object.keys(servers).join(", ")}, got ${kind}`);

function peakRssBytes(pid: number): number | undefined {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : undefined;
}

function requestsPerSecond(wrkOutput: string): number {
  const m = /Requests\/sec:\s+([\d.]+)/.exec(wrkOutput);
  if (m === null) throw new Error(`could not read Requests/sec from wrk's output:\n${wrkOutput}`);
  if (/Non-2xx or 3xx responses/.test(wrkOutput)) throw new Error(`the server answered errors:\n${wrkOutput}`);
  return Number(m[1]);
}

const server = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
const exited = once(server, "exit");
try {
  const lines = createInterface({ input: server.stdout });
  const [first] = (await Promise.race([once(lines, "line"), exited.then(() => [null])])) as [string | null];
  if (first === null) throw new Error(`the ${kind} server exited before printing its port`);
  const url = `http://127.0.0.1:${first.trim()}/`;
  await runMeasured(["wrk", "-t1", "-c50", "-d1s", url]);
  const load = await runMeasured(["wrk", "-t1", "-c50", `-d${secondsArg}s`, url]);
  const value = requestsPerSecond(load.stdout);
  const serverCpu = processCpuSeconds(server.pid!);
  const rssBytes = peakRssBytes(server.pid!);
  process.stdout.write(`${JSON.stringify({ value, rssBytes, extra: { serverCpu, clientCpu: load.cpuSec } })}\n`);
} finally {
  server.kill("SIGKILL");
  await exited;
}
