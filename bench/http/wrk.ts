/**
 * HTTP peer: `wrk.ts <kind> [seconds]` starts that server in its own process, runs an unrecorded
 * 1 s wrk warm-up, then `wrk -t1 -c50 -d<seconds>s` (5 s, as in ANCHORS.md) and reports requests
 * per second, with the server's CPU seconds and peak RSS. Kinds: hello-world `aiots`, `node`,
 * `aiohttp`, `aiohttp-uvloop`; a 1 MiB file `aiots-static`, `node-static`; hello over TLS
 * `aiots-https`, `node-https`. The file and a self-signed certificate (openssl CLI) are made in a
 * temporary directory for the run.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { processCpuSeconds, runMeasured } from "../harness/measure.ts";

const [kind = "node", secondsArg = "5"] = process.argv.slice(2); // --quick appends "2"
const servers: Record<string, { argv: string[]; path?: string; https?: boolean }> = {
  aiots: { argv: [process.execPath, "bench/http/server-aiots.ts"] },
  node: { argv: [process.execPath, "bench/http/server-node.ts"] },
  aiohttp: { argv: ["/usr/bin/python3", "bench/http/server_aiohttp.py"] },
  "aiohttp-uvloop": { argv: ["/usr/bin/python3", "bench/http/server_aiohttp.py", "uvloop"] },
  "aiots-static": { argv: [process.execPath, "bench/http/server-aiots.ts", "static"], path: "/file.bin" },
  "node-static": { argv: [process.execPath, "bench/http/server-node.ts", "static"], path: "/file.bin" },
  "aiots-https": { argv: [process.execPath, "bench/http/server-aiots.ts", "https"], https: true },
  "node-https": { argv: [process.execPath, "bench/http/server-node.ts", "https"], https: true },
};
const spec = servers[kind];
if (spec === undefined) throw new TypeError(`server kind must be one of ${Object.keys(servers).join(", ")}, got ${kind}`);
const argv = spec.argv;
const dir = mkdtempSync(join(tmpdir(), "aiots-bench-http-"));
writeFileSync(join(dir, "file.bin"), Buffer.alloc(1024 * 1024, 97));
if (spec.https === true) {
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "server.key"), "-out", join(dir, "server.pem"), "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "pipe" });
}

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

const server = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, AIOTS_BENCH_DIR: dir } });
const exited = once(server, "exit");
try {
  const lines = createInterface({ input: server.stdout });
  const [first] = (await Promise.race([once(lines, "line"), exited.then(() => [null])])) as [string | null];
  if (first === null) throw new Error(`the ${kind} server exited before printing its port`);
  const url = `${spec.https === true ? "https" : "http"}://127.0.0.1:${first.trim()}${spec.path ?? "/"}`;
  await runMeasured(["wrk", "-t1", "-c50", "-d1s", url]);
  const load = await runMeasured(["wrk", "-t1", "-c50", `-d${secondsArg}s`, url]);
  const value = requestsPerSecond(load.stdout);
  const serverCpu = processCpuSeconds(server.pid!);
  const rssBytes = peakRssBytes(server.pid!);
  process.stdout.write(`${JSON.stringify({ value, rssBytes, extra: { serverCpu, clientCpu: load.cpuSec } })}\n`);
} finally {
  server.kill("SIGKILL");
  await exited;
  rmSync(dir, { recursive: true, force: true });
}
