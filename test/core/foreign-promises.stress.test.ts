// Seeded stress: tasks in task groups and under timeouts await foreign promises (Node timers,
// adopted with ensureFuture or abortable), bare ones, and aiots waits, while siblings fail, chaos
// cancels land and deadlines pass. Invariants: every bounded wait ends by its deadline (plus slack,
// never at the foreign promise's settlement), every abortable's signal is aborted when it is
// interrupted, every task ends, and no late outcome is reported as unhandled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { ExceptionGroup, abortable, ensureFuture, run, sleep, taskGroup, timeout, waitFor } from "../../src/index.ts";
import { Ops, isInterruption, seeded } from "../helpers/stress.ts";

const BOUNDED = { timeout: 60_000 };
const FOREIGN_MS = 3000; // the foreign promises settle long after every deadline
const SLACK = 1.5; // seconds past a deadline that a loaded machine may take

function foreign(random: () => number): Promise<string> {
  const ms = FOREIGN_MS * (1 + random());
  return random() < 0.5
    ? new Promise((resolve) => setTimeout(resolve, ms, "late"))
    : new Promise((_, reject) => setTimeout(reject, ms, new Error("late rejection")));
}

async function stressForeign(seed: number): Promise<{ bounded: number; aborted: number; groups: number }> {
  const random = seeded(seed);
  const ops = new Ops();
  const signals: AbortSignal[] = [];
  let bounded = 0;
  let groups = 0;
  const lateDeadlines: string[] = [];
  const boundedWait = async (): Promise<void> => {
    const limit = random() * 0.02;
    const start = performance.now();
    try {
      const kind = random();
      if (kind < 0.35) await waitFor(foreign(random), limit);
      else if (kind < 0.7) await timeout(limit, () => ensureFuture(foreign(random)));
      else await timeout(limit, () => abortable((signal) => (signals.push(signal), delay(FOREIGN_MS, "late", { signal }))));
    } catch (error) {
      if (!isInterruption(error)) throw error;
    } finally {
      const took = (performance.now() - start) / 1000;
      if (took > limit + SLACK) lateDeadlines.push(`a wait bounded at ${limit.toFixed(3)} s took ${took.toFixed(3)} s`);
      bounded += 1;
    }
  };
  for (let step = 0; step < 300; step++) {
    const r = random();
    if (r < 0.4) {
      ops.spawn(boundedWait);
    } else if (r < 0.8) {
      groups += 1;
      ops.spawn(async () => {
        try {
          await taskGroup(async (tg) => {
            for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
              const what = random();
              if (what < 0.3) tg.createTask(() => ensureFuture(foreign(random)));
              else if (what < 0.5) tg.createTask(() => abortable((signal) => (signals.push(signal), delay(FOREIGN_MS, 1, { signal }))));
              else if (what < 0.7) tg.createTask(boundedWait);
              else if (what < 0.85) tg.createTask(() => sleep(random() * 0.01));
              else tg.createTask(async () => {
                await sleep(random() * 0.01);
                throw new RangeError("sibling failed");
              });
            }
            if (random() < 0.3) tg.cancel();
            await sleep(random() * 0.01);
          });
        } catch (error) {
          if (error instanceof ExceptionGroup) {
            for (const e of error.exceptions) if (!(e instanceof RangeError)) throw e;
            return;
          }
          if (!isInterruption(error)) throw error;
        }
      });
    } else if (r < 0.9) {
      ops.cancelRandom(random);
    }
    if (random() < 0.5) await sleep(0);
  }
  // Everything left is cancelled; adopted foreign waits end at once, so this is quick.
  await sleep(0.03);
  const start = performance.now();
  for (const t of ops.pending) t.cancel("end");
  await ops.settle();
  assert.ok((performance.now() - start) / 1000 < SLACK, "cancelling every task ended them at once");
  assert.deepEqual(lateDeadlines, []);
  const aborted = signals.filter((s) => s.aborted).length;
  return { bounded, aborted, groups };
}

for (const seed of [3, 17]) {
  void test(`stress (seed ${seed}): foreign promises in task groups and timeouts end at their deadlines and cancels`, BOUNDED, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const stats = await run(() => stressForeign(seed));
      assert.ok(stats.bounded > 50, `bounded=${stats.bounded}`);
      assert.ok(stats.aborted > 10, `aborted=${stats.aborted}`);
      assert.ok(stats.groups > 50, `groups=${stats.groups}`);
      // Let some of the late foreign outcomes arrive: they must change nothing.
      await delay(FOREIGN_MS + 200);
    } finally {
      process.removeListener("unhandledRejection", onUnhandled);
    }
    assert.deepEqual(unhandled, [], "late outcomes of adopted promises are never unhandled");
  });
}
