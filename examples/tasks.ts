/**
 * Demo 1 — two tasks printing at different rates: `createTask` starts them, `sleep` lets the other
 * run, `cancel()` stops them at the `await` they are suspended on.
 *
 *   node examples/tasks.ts
 */
import { createTask, run, sleep, CancelledError } from "../src/index.ts";

export interface TasksDemoOptions {
  /** Seconds to let the two tasks run. */
  seconds?: number;
  print?: (line: string) => void;
}

export async function tasksDemo({ seconds = 1.2, print = console.log }: TasksDemoOptions = {}): Promise<void> {
  const ticker = (name: string, every: number) => async () => {
    try {
      for (let i = 1; ; i++) {
        print(`    ${name} #${i}`);
        await sleep(every);
      }
    } catch (error) {
      if (error instanceof CancelledError) print(`    ${name} cancelled at its await sleep(${every})`);
      throw error;
    }
  };
  const fast = createTask(ticker("fast (every 0.2 s)", 0.2), { name: "fast" });
  const slow = createTask(ticker("slow (every 0.5 s)", 0.5), { name: "slow" });
  await sleep(seconds);
  fast.cancel();
  slow.cancel();
  for (const task of [fast, slow]) {
    try {
      await task;
    } catch (error) {
      if (!(error instanceof CancelledError)) throw error;
    }
  }
}

if (import.meta.main) await run(() => tasksDemo());
