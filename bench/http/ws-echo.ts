/**
 * WebSocket echo peer: `ws-echo.ts <aiots|ws|websockets|websockets-uvloop> [seconds]` starts that
 * server in its own process and drives it with the C client (bench/.build/http/client-ws: 10
 * connections, 64-byte text messages, strict request/response) after an unrecorded 0.5 s warm-up,
 * and reports echoed messages per second, with the server's CPU seconds and peak RSS.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { processCpuSeconds, runMeasured } from "../harness/measure.ts";

const [kind = "ws", secondsArg = "5"] = process.argv.slice(2); // --quick appends "2"
const servers: Record<string, string[]> = {
  aiots: [process.execPath, "bench/http/ws-server-aiots.ts"],
  ws: [process.execPath, "bench/http/ws-server-ws.ts"],
  websockets: ["/usr/bin/python3", "bench/http/ws_server_websockets.py"],
  "websockets-uvloop": ["/usr/bin/python3", "bench/http/ws_server_websockets.py", "uvloop"],
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
  if (first === null) throw new Error(`the ${kind} server exited before printing its port`);
  const client = await runMeasured(["bench/.build/http/client-ws", "127.0.0.1", first.trim(), "/echo", "10", secondsArg, "64", "0.5"]);
  const result = JSON.parse(client.stdout.trim()) as { perSecond: number };
  const serverCpu = processCpuSeconds(server.pid!);
  const rssBytes = peakRssBytes(server.pid!);
  process.stdout.write(`${JSON.stringify({ value: result.perSecond, rssBytes, extra: { serverCpu, clientCpu: client.cpuSec } })}\n`);
} finally {
  server.kill("SIGKILL");
  await exited;
}
