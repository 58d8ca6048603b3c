/** What the Node scaling peers share: their arguments and the heap measurement. */

/** `<spawn|cancel> <N>` from the command line; cancellation runs in batches of `batch` tasks. */
export function scalingArgs(): { mode: string; n: number; batch: number } {
  const [mode = "spawn", n = "100000"] = process.argv.slice(2);
  return { mode, n: Number(n), batch: 10_000 };
}

/** Heap in use after a full GC (peers run with --expose-gc; without it, the heap as it is). */
export function heapAfterGc(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}
