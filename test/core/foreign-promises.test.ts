/**
 * Promises aiots does not own must not defeat timeouts and cancellation: ensureFuture(promise),
 * abortable(fn), and every API that takes a bare promise. Real timers (the promises are Node's),
 * with wide margins: a wait bounded at 0.1 s must end long before the 1.5 s promise settles.
 */
import assert from "node:assert/strict";
import test from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  CancelledError,
  Future,
  Lock,
  Task,
  TimeoutError,
  abortable,
  asCompleted,
  createTask,
  ensureFuture,
  gather,
  getRunningLoop,
  run,
  shield,
  sleep,
  taskGroup,
  timeout,
  wait,
  waitFor,
  type ExceptionContext,
} from "../../src/index.ts";

const SLOW = 1.5; // seconds the foreign promise takes
const BOUND = 0.1; // the timeout that must win
const MARGIN = 1.0; // under load, "at once" still means well before SLOW

function slowPromise<T>(value: T, seconds = SLOW): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000, value));
}

function slowRejection(seconds = SLOW): Promise<never> {
  return new Promise((_, reject) => setTimeout(reject, seconds * 1000, new Error("late rejection")));
}

function elapsedSince(start: number): number {
  return (performance.now() - start) / 1000;
}

// Collects unhandled rejections while `body` runs and for a while after the late promises settle.
async function noUnhandledRejections(body: () => Promise<void>, settleSeconds: number): Promise<void> {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void seen.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    await body();
    await delay(settleSeconds * 1000);
  } finally {
    process.removeListener("unhandledRejection", onUnhandled);
  }
  assert.deepEqual(seen, [], "a late rejection of an adopted promise is not reported as unhandled");
}

test("waitFor(bare promise, 0.1) throws TimeoutError at the deadline, not when the promise settles", async () => {
  await noUnhandledRejections(async () => {
    await run(async () => {
      let start = performance.now();
      await assert.rejects(waitFor(slowPromise("late"), BOUND), TimeoutError);
      assert.ok(elapsedSince(start) < MARGIN, `took ${elapsedSince(start)} s`);
      start = performance.now();
      await assert.rejects(waitFor(slowRejection(), BOUND), TimeoutError);
      assert.ok(elapsedSince(start) < MARGIN);
      // In time, the value comes through.
      assert.equal(await waitFor(slowPromise("fast", 0.01), 5), "fast");
      await assert.rejects(waitFor(Promise.reject(new RangeError("boom")), 5), RangeError);
    });
  }, SLOW);
});

test("ensureFuture(promise) is a Future (not a Task) that cancels at once; its late outcome is ignored", async () => {
  await noUnhandledRejections(async () => {
    await run(async () => {
      const fut = ensureFuture(slowRejection(0.2));
      assert.ok(fut instanceof Future);
      assert.ok(!(fut instanceof Task));
      assert.equal(fut.cancel("stop"), true);
      assert.equal(fut.cancelled(), true);
      await assert.rejects(fut, (e: unknown) => e instanceof CancelledError && e.message === "stop");
      const resolved = ensureFuture(Promise.resolve(7));
      assert.equal(await resolved, 7);
      assert.equal(resolved.cancel(), false);
      // A thenable whose then() throws fails the future instead of throwing from ensureFuture.
      const broken = ensureFuture({ then() { throw new SyntaxError("bad thenable"); } } as PromiseLike<number>);
      await assert.rejects(broken, SyntaxError);
    });
  }, 0.4);
});

test("timeout(0.1, () => ensureFuture(p)) and a cancelled task awaiting ensureFuture(p) end at once", async () => {
  await run(async () => {
    let start = performance.now();
    await assert.rejects(timeout(BOUND, () => ensureFuture(slowPromise(1))), TimeoutError);
    assert.ok(elapsedSince(start) < MARGIN);
    const steps: string[] = [];
    const t = createTask(async () => {
      try {
        await ensureFuture(slowPromise(1));
        steps.push("resumed normally");
      } catch (error) {
        steps.push(error instanceof CancelledError ? "cancelled at the await" : "other");
        throw error;
      } finally {
        steps.push("finally");
      }
    });
    await sleep(0.02);
    start = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.ok(elapsedSince(start) < MARGIN);
    assert.deepEqual(steps, ["cancelled at the await", "finally"]);
  });
});

test("abortable(fn): cancelling aborts the signal with the CancelledError and throws at the await at once", async () => {
  await run(async () => {
    let seen: AbortSignal | null = null;
    const start = performance.now();
    let stoppedEarly = false;
    await assert.rejects(
      timeout(BOUND, () =>
        abortable(async (signal) => {
          seen = signal;
          try {
            return await delay(SLOW * 1000, "late", { signal });
          } catch (error) {
            stoppedEarly = (error as Error).name === "AbortError";
            throw error;
          }
        }),
      ),
      TimeoutError,
    );
    assert.ok(elapsedSince(start) < MARGIN);
    assert.equal(seen!.aborted, true);
    assert.ok(seen!.reason instanceof CancelledError);
    await sleep(0.01);
    assert.equal(stoppedEarly, true, "the Node timer behind the promise was aborted too");
    // Not cancelled: the value, a thrown error, or a plain value.
    assert.equal(await abortable(async (signal) => (signal.aborted ? "aborted" : "ok")), "ok");
    await assert.rejects(abortable(() => { throw new RangeError("sync"); }), RangeError);
    assert.equal(await abortable(() => 5), 5);
    assert.throws(() => abortable("fetch" as never), /abortable\(\) takes a function/);
    // Cancelling the future itself.
    const fut = abortable((signal) => delay(SLOW * 1000, "x", { signal }));
    assert.equal(fut.cancel(), true);
    await assert.rejects(fut, CancelledError);
  });
});

test("gather, wait, asCompleted and shield with bare promises are bounded too", async () => {
  await noUnhandledRejections(async () => {
    await run(async () => {
      let start = performance.now();
      const g = createTask(() => gather(slowPromise(1), slowRejection()));
      await sleep(0.02);
      g.cancel();
      await assert.rejects(g, CancelledError);
      assert.ok(elapsedSince(start) < MARGIN);

      start = performance.now();
      const [done, pending] = await wait([slowPromise(1), slowPromise(2, 0.01)], { timeout: BOUND });
      assert.equal(done.size, 1);
      assert.equal(pending.size, 1);
      for (const f of [...done, ...pending]) assert.ok(f instanceof Future);
      assert.ok(elapsedSince(start) < MARGIN);

      start = performance.now();
      const order: unknown[] = [];
      await assert.rejects(async () => {
        for (const next of asCompleted([slowPromise("slow"), slowPromise("fast", 0.01)], { timeout: BOUND })) order.push(await next);
      }, TimeoutError);
      assert.deepEqual(order, ["fast"]);
      assert.ok(elapsedSince(start) < MARGIN);

      start = performance.now();
      const shielded = slowPromise("kept", 0.3);
      const s = createTask(() => shield(shielded));
      await sleep(0.02);
      s.cancel();
      await assert.rejects(s, CancelledError);
      assert.ok(elapsedSince(start) < 0.25, "the shield is cancelled at once");
      assert.equal(await shielded, "kept");
    });
  }, SLOW);
});

test("a promise the task's own code drives receives the cancel and is waited for (cleanup first, no lost lock)", async () => {
  await run(async () => {
    const steps: string[] = [];
    async function work(): Promise<string> {
      try {
        await sleep(10);
        return "slept";
      } finally {
        await sleep(0.01);
        steps.push("cleanup done");
      }
    }
    await assert.rejects(waitFor(work(), 0.02), TimeoutError);
    assert.deepEqual(steps, ["cleanup done"], "waitFor returned only after the cancelled work cleaned up");
    const lock = new Lock();
    await lock.acquire();
    await assert.rejects(waitFor(lock.acquire(), 0.02), TimeoutError);
    assert.equal(lock.locked(), true);
    lock.release();
    assert.equal(lock.locked(), false, "the timed-out acquire did not take the lock");
  });
});

test("a bare `await promise` in a task body: the cancel is delivered when the promise settles, at the next aiots await", async () => {
  await run(async () => {
    const steps: string[] = [];
    const t = createTask(async () => {
      await slowPromise("x", 0.2); // not wrapped: nothing can interrupt it
      steps.push("promise settled");
      await sleep(10); // the pending cancel is delivered here
      steps.push("not reached");
    });
    await sleep(0.02);
    const start = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.ok(elapsedSince(start) >= 0.1, "the cancel had to wait for the promise");
    assert.deepEqual(steps, ["promise settled"]);
  });
});

test("debug mode reports a cancel that cannot be delivered, naming the task and the await site", async () => {
  const reports: ExceptionContext[] = [];
  async function slowQuery(): Promise<void> {
    await slowPromise(undefined, 0.5);
  }
  await run(async () => {
    const loop = getRunningLoop();
    loop.slowCallbackDuration = 0.05;
    loop.setExceptionHandler((_loop, context) => void reports.push(context));
    const stuck = createTask(async () => {
      await slowQuery();
      await sleep(1);
    }, { name: "db-worker" });
    const wrapped = createTask(async () => {
      await ensureFuture(slowPromise(undefined, 0.5));
    }, { name: "wrapped" });
    await sleep(0.02);
    stuck.cancel();
    wrapped.cancel();
    await assert.rejects(wrapped, CancelledError);
    await assert.rejects(stuck, CancelledError);
  }, { debug: true });
  const undelivered = reports.filter((r) => r["undeliveredCancel"] === true);
  assert.equal(undelivered.length, 1, `reports: ${reports.map((r) => r.message).join("\n")}`);
  const [report] = undelivered;
  assert.match(report!.message, /^Task db-worker was cancelled \d\.\d+ seconds ago and the cancellation could not be delivered/);
  assert.match(report!.message, /slowQuery \(.*foreign-promises\.test\.ts:\d+:\d+\)/, "the await site");
  assert.match(report!.message, /wrap it: await ensureFuture\(promise\), or abortable/);
  assert.equal(report!.task?.getName(), "db-worker");
});

test("a task group whose child awaits an adopted foreign promise is cancelled at once when a sibling fails", async () => {
  await run(async () => {
    const start = performance.now();
    await assert.rejects(
      taskGroup(async (tg) => {
        tg.createTask(() => ensureFuture(slowPromise(1)));
        tg.createTask(() => abortable((signal) => delay(SLOW * 1000, 1, { signal })));
        tg.createTask(async () => {
          await sleep(0.02);
          throw new RangeError("sibling failed");
        });
      }),
      (e: unknown) => e instanceof AggregateError && e.errors.length === 1 && e.errors[0] instanceof RangeError,
    );
    assert.ok(elapsedSince(start) < MARGIN);
  });
});
