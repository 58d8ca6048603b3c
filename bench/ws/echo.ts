/**
 * WebSocket echo peer: `echo.ts <aiots|ws|websockets> <plain|deflate> [seconds]` starts that server
 * in its own process and drives it with 10 connections of 64-byte text, strict request/response,
 * after an unrecorded 0.5 s warm-up: the C client without compression (bench/.build/http/client-ws),
 * the ws-based client (client-deflate.ts) with permessage-deflate offered. Reports echoed messages
 * per second, with the server's CPU seconds and peak RSS.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { processCpuSeconds, runMeasured } from "../harness/measure.ts";

const [kind = "ws", mode = "plain", secondsArg = "5"] = process.argv.slice(2);
const servers: Record<string, string[]> = {
  aiots: [process.execPath, "bench/ws/server-aiots.ts", mode],
  ws: [process.execPath, "bench/ws/server-ws.ts", mode],
  websockets: ["/usr/bin/python3", "bench/ws/server_websockets.py", mode],
};
const argv = servers[kind];
if (argv === undefined) throw new TypeError(`server kind must be one of ${Object.keys(servers).join(", ")}, got ${kind}`);
if (mode !== "plain" && mode !== "deflate") throw new TypeError(`mode is plain or deflate, got ${mode}`);

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
  const port = first.trim();
  const client =
    mode === "plain"
      ? await runMeasured(["bench/.build/http/client-ws", "127.0.0.1", port, "/echo", "10", secondsArg, "64", "0.5"])
      : await runMeasured([process.execPath, "bench/ws/client-deflate.ts", port, "10", secondsArg, "64", "0.5"]);
  const result = JSON.parse(client.stdout.trim().split("\n").at(-1)!) as { perSecond: number };
  const serverCpu = processCpuSeconds(server.pid!);
  const rssBytes = peakRssBytes(server.pid!);
  process.stdout.write(`${JSON.stringify({ value: result.perSecond, rssBytes, extra: { serverCpu, clientCpu: client.cpuSec } })}\n`);
} finally {
  server.kill("SIGKILL");
  await exited;
}
