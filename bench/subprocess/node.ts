/**
 * Raw Node peer of the subprocess suite (the baseline): the same work without aiots.
 *   to-thread N: N sequential postMessage round trips to one worker_threads Worker.
 *   spawn N:     N sequential child_process.spawn("echo") collecting stdout until "close".
 * A 10% warm-up runs first, untimed. Prints the harness report line (ms).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { report } from "../suite.ts";

const mode = process.argv[2] ?? "to-thread";
const n = Number(process.argv[3] ?? (mode === "spawn" ? 200 : 10_000));

const worker = mode === "spawn" ? null : new Worker("require('node:worker_threads').parentPort.on('message', (x) => require('node:worker_threads').parentPort.postMessage(x + 1));", { eval: true });

async function roundTrips(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const reply = once(worker!, "message");
    worker!.postMessage(i);
    const [value] = (await reply) as [number];
    if (value !== i + 1) throw new Error(`wrong result ${value}`);
  }
}

async function spawns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const child = spawn("echo", ["hello"], { stdio: ["ignore", "pipe", "inherit"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    const [code] = (await once(child, "close")) as [number];
    if (Buffer.concat(chunks).toString() !== "hello\n" || code !== 0) throw new Error("unexpected child output");
  }
}

const work = mode === "spawn" ? spawns : roundTrips;
await work(Math.max(1, Math.floor(n / 10)));
const start = performance.now();
await work(n);
const ms = performance.now() - start;
await worker?.terminate();
report(ms);
