/**
 * Port of the asyncio docs' executor examples: `toThread` for blocking work (the loop keeps running
 * a sleep beside it), and `loop.runInExecutor` for CPU-bound work on a pool of worker threads.
 *
 * Functions run in worker threads travel as source text: they may use only their arguments and
 * globals (`process.getBuiltinModule(...)` loads Node's modules).
 *
 * Run: node examples/to-thread.ts
 */
import { ThreadPoolExecutor, gather, getRunningLoop, run, sleep, toThread } from "../src/index.ts";

function blockingIo(seconds: number): string {
  // A blocking call: this thread sleeps without yielding (as time.sleep would).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
  return `blocking_io slept ${seconds}s`;
}

function cpuBound(n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += i * i;
  return total;
}

await run(async () => {
  const started = performance.now();
  // Both take 0.5 s; together they still take about 0.5 s, because the blocking call runs in a worker.
  const [message] = await gather(toThread(blockingIo, 0.5), sleep(0.5));
  console.log(`${message}; both done after ~${Math.round((performance.now() - started) / 100) / 10}s`);

  const loop = getRunningLoop();
  // The default pool (runInExecutor(null, ...)), then a custom one.
  console.log("default thread pool", await loop.runInExecutor(null, cpuBound, 1_000_000));
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  console.log("custom thread pool", await loop.runInExecutor(pool, cpuBound, 1_000_000));
});
