/** Cancellation reaches the exact await a task is suspended on, for every kind of aiots await. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CancelledError,
  createTask,
  currentTask,
  gather,
  getRunningLoop,
  run,
  shield,
  sleep,
  taskGroup,
  timeout,
  waitFor,
  wait,
  type Future,
} from "../../src/index.ts";
import { rejection } from "../helpers/index.ts";

/** Starts `body` in a task, lets it suspend, cancels it, and returns what the body recorded. */
async function cancelWhileAwaiting(body: (log: string[]) => Promise<unknown>): Promise<{ log: string[]; error: unknown }> {
  const log: string[] = [];
  const t = createTask(async () => {
    try {
      await body(log);
      log.push("not interrupted");
    } catch (error) {
      log.push(`caught ${(error as Error).name}`);
      throw error;
    } finally {
      log.push("finally");
    }
  });
  await sleep(0);
  await sleep(0);
  t.cancel("test");
  const error = await rejection(t);
  assert.equal(t.cancelled(), true);
  return { log, error };
}

test("cancellation lands at await sleep(), finally runs", async () => {
  await run(async () => {
    const { log, error } = await cancelWhileAwaiting(() => sleep(10));
    assert.deepEqual(log, ["caught CancelledError", "finally"]);
    assert.ok(error instanceof CancelledError);
    assert.equal((error).message, "test");
  });
});

test("cancellation lands at await of a plain Future and cancels it", async () => {
  await run(async () => {
    const fut = getRunningLoop().createFuture<number>();
    const { log } = await cancelWhileAwaiting(() => fut);
    assert.deepEqual(log, ["caught CancelledError", "finally"]);
    assert.equal(fut.cancelled(), true);
  });
});

test("cancellation of a task awaiting another task cancels the awaited task too (asyncio)", async () => {
  await run(async () => {
    const inner = createTask(() => sleep(10));
    const { log } = await cancelWhileAwaiting(() => inner);
    assert.deepEqual(log, ["caught CancelledError", "finally"]);
    assert.equal(inner.cancelled(), true);
  });
});

test("cancellation inside nested plain async functions reaches the innermost await", async () => {
  await run(async () => {
    const { log } = await cancelWhileAwaiting(async (l) => {
      async function level(n: number): Promise<void> {
        try {
          if (n === 0) await sleep(10);
          else await level(n - 1);
        } finally {
          l.push(`unwind ${n}`);
        }
      }
      await level(2);
    });
    assert.deepEqual(log, ["unwind 0", "unwind 1", "unwind 2", "caught CancelledError", "finally"]);
  });
});

test("several plain async calls running at once in one task are all interrupted", async () => {
  await run(async () => {
    const { log } = await cancelWhileAwaiting(async (l) => {
      const branch = async (name: string, delay: number): Promise<void> => {
        try {
          await sleep(delay);
        } catch (e) {
          l.push(`${name} cancelled`);
          throw e;
        }
      };
      const results = await Promise.allSettled([branch("a", 10), branch("b", 20), branch("c", 30)]);
      l.push(`settled ${results.map((r) => r.status).join(",")}`);
      throw (results[0] as PromiseRejectedResult).reason;
    });
    assert.deepEqual(log, ["a cancelled", "b cancelled", "c cancelled", "settled rejected,rejected,rejected", "caught CancelledError", "finally"]);
  });
});

test("cancellation lands at await gather() and cancels its children", async () => {
  await run(async () => {
    const children = [createTask(() => sleep(10)), createTask(() => sleep(10))];
    const { log } = await cancelWhileAwaiting(() => gather(...children));
    assert.deepEqual(log, ["caught CancelledError", "finally"]);
    assert.ok(children.every((c) => c.cancelled()));
  });
});

test("cancellation lands at await wait()", async () => {
  await run(async () => {
    const child = createTask(() => sleep(10));
    const { log } = await cancelWhileAwaiting(() => wait([child]));
    assert.deepEqual(log, ["caught CancelledError", "finally"]);
    assert.equal(child.cancelled(), false, "wait() does not cancel what it watches");
    child.cancel();
  });
});

test("a task awaiting a foreign promise is cancelled at its next aiots await", async () => {
  await run(async () => {
    const log: string[] = [];
    let release!: () => void;
    const foreign = new Promise<void>((resolve) => (release = resolve));
    const t = createTask(async () => {
      await foreign;
      log.push("foreign done");
      try {
        await sleep(10);
      } catch (e) {
        log.push("cancelled at sleep");
        throw e;
      }
    });
    await sleep(0);
    t.cancel();
    assert.equal(t.cancelling(), 1);
    release();
    assert.ok((await rejection(t)) instanceof CancelledError);
    assert.deepEqual(log, ["foreign done", "cancelled at sleep"]);
  });
});

test("a task cancelled while awaiting a foreign promise that then returns ends cancelled", async () => {
  await run(async () => {
    let release!: () => void;
    const t = createTask(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return "finished anyway";
    });
    await sleep(0);
    t.cancel();
    release();
    assert.ok((await rejection(t)) instanceof CancelledError);
  });
});

test("a coroutine that catches CancelledError and returns completes normally", async () => {
  await run(async () => {
    const t = createTask(async () => {
      try {
        await sleep(10);
      } catch (e) {
        assert.ok(e instanceof CancelledError);
        return "recovered";
      }
      return "slept";
    });
    await sleep(0);
    t.cancel();
    assert.equal(await t, "recovered");
    assert.equal(t.cancelled(), false);
    assert.equal(t.cancelling(), 1, "the request stays counted until uncancel()");
  });
});

test("catch-and-continue: after uncancel() the task goes on awaiting normally", async () => {
  await run(async () => {
    const t = createTask(async () => {
      try {
        await sleep(10);
      } catch {
        currentTask()!.uncancel();
      }
      await sleep(0.001);
      return currentTask()!.cancelling();
    });
    await sleep(0);
    t.cancel();
    assert.equal(await t, 0);
  });
});

test("cancel() twice: the second request is counted, one CancelledError is delivered", async () => {
  await run(async () => {
    let deliveries = 0;
    const t = createTask(async () => {
      try {
        await sleep(10);
      } catch {
        deliveries += 1;
      }
      return currentTask()!.cancelling();
    });
    await sleep(0);
    t.cancel();
    t.cancel();
    assert.equal(await t, 2);
    assert.equal(deliveries, 1);
  });
});

test("shield: cancelling the awaiting task leaves the shielded task running", async () => {
  await run(async () => {
    const inner = createTask(async () => {
      await sleep(0.01);
      return "saved";
    });
    const { log } = await cancelWhileAwaiting(() => shield(inner));
    assert.deepEqual(log, ["caught CancelledError", "finally"]);
    assert.equal(inner.cancelled(), false);
    assert.equal(await inner, "saved");
  });
});

test("shield(fn) runs the function in its own task, protected from the caller's cancel", async () => {
  await run(async () => {
    let saved = false;
    const { log } = await cancelWhileAwaiting(() =>
      shield(async () => {
        await sleep(0.01);
        saved = true;
      }),
    );
    assert.deepEqual(log, ["caught CancelledError", "finally"]);
    await sleep(0.03);
    assert.equal(saved, true);
  });
});

test("shield passes the inner result and error through", async () => {
  await run(async () => {
    assert.equal(await shield(sleep(0.001, 3)), 3);
    const boom = new Error("inner");
    assert.equal(await rejection(shield(createTask(async () => { throw boom; }))), boom);
    const cancelledInner = createTask(() => sleep(10));
    const outer = shield(cancelledInner);
    cancelledInner.cancel();
    assert.ok((await rejection(outer)) instanceof CancelledError);
  });
});

test("cancellation lands inside timeout() and waitFor() bodies and is not turned into TimeoutError", async () => {
  await run(async () => {
    const a = await cancelWhileAwaiting(() => timeout(10, () => sleep(20)));
    assert.ok(a.error instanceof CancelledError);
    const b = await cancelWhileAwaiting(() => waitFor(sleep(20), 10));
    assert.ok(b.error instanceof CancelledError);
  });
});

test("cancellation lands inside a task group body and cancels its children", async () => {
  await run(async () => {
    const children: Future<unknown>[] = [];
    const { log, error } = await cancelWhileAwaiting(() =>
      taskGroup(async (tg) => {
        children.push(tg.createTask(() => sleep(10)));
        await sleep(10);
      }),
    );
    assert.deepEqual(log, ["caught CancelledError", "finally"]);
    assert.ok(error instanceof CancelledError);
    assert.ok(children[0]!.cancelled());
  });
});
