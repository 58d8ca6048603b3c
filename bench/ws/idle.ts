/**
 * Memory of idle connections: `idle.ts <aiots|ws|websockets> <plain|deflate> [connections]` starts
 * that server, opens 1,000 connections to it (offering permessage-deflate or not), sends one
 * compressible 2 KiB message on each and waits for its echo (so every connection has allocated
 * what its compression needs), lets them sit idle, and reports the growth of the server's RSS in
 * MB (VmRSS after minus before), after giving the server a moment to settle.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import WebSocket from "ws";

const [kind = "ws", mode = "plain", countArg = "1000"] = process.argv.slice(2);
const servers: Record<string, string[]> = {
  aiots: [process.execPath, "--expose-gc", "bench/ws/server-aiots.ts", mode],
  ws: [process.execPath, "--expose-gc", "bench/ws/server-ws.ts", mode],
  websockets: ["/usr/bin/python3", "bench/ws/server_websockets.py", mode],
};
const argv = servers[kind];
if (argv === undefined) throw new TypeError(`server kind must be one of ${Object.keys(servers).join(", ")}, got ${kind}`);

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const sleep = (s: number): Promise<void> => new Promise((r) => setTimeout(r, s * 1000));
const server = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
const exited = once(server, "exit");
const sockets: WebSocket[] = [];
try {
  const lines = createInterface({ input: server.stdout });
  const [first] = (await Promise.race([once(lines, "line"), exited.then(() => [null])])) as [string | null];
  if (first === null) throw new Error(`the ${kind} server exited before printing its port`);
  const port = first.trim();
  await sleep(0.5);
  const before = rssBytes(server.pid!);
  const message = "idle connection, compressible text. ".repeat(57);
  const count = Number(countArg);
  // In batches of 50, so the server's accept backlog never overflows on a loaded machine.
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/idle`, { perMessageDeflate: mode === "deflate" });
        sockets.push(ws);
        await once(ws, "open");
        if ((ws.extensions !== "") !== (mode === "deflate")) throw new Error(`compression ${mode} was not what the server agreed (${ws.extensions})`);
        ws.send(message);
        const [echo] = (await once(ws, "message")) as [Buffer];
        if (echo.toString() !== message) throw new Error("the echo differs");
      }),
    );
  }
  await sleep(2);
  const after = rssBytes(server.pid!);
  process.stdout.write(`${JSON.stringify({ value: (after - before) / 1e6, extra: { connections: count, beforeMB: before / 1e6, afterMB: after / 1e6 } })}\n`);
} finally {
  for (const ws of sockets) ws.terminate();
  server.kill("SIGKILL");
  await exited;
}
