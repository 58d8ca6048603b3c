import { test } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, createTask, gather, run, sleep } from "../../src/index.ts";
import { VirtualTimeLoop } from "../../src/dev/virtual-time-loop.ts";
import { rejection } from "../helpers/index.ts";

test("gather resolves to the results in argument order, not completion order", async () => {
  await run(async () => {
    const results = await gather(sleep(0.02, "slow"), sleep(0.001, "fast"), createTask(async () => 3));
    assert.deepEqual(results, ["slow", "fast", 3]);
    assert.deepEqual(await gather(), []);
    assert.deepEqual(await gather([sleep(0, 1), Promise.resolve(2)]), [1, 2]);
  });
});

test("without returnExceptions the first error propagates and the other children keep running", async () => {
  // On a virtual clock: "the survivor has not finished yet" must not depend on machine load.
  await run(async () => {
    const boom = new Error("boom");
    let survivorFinished = false;
    const survivor = createTask(async () => {
      await sleep(0.02);
      survivorFinished = true;
    });
    const failing = createTask(async () => {
      await sleep(0.001);
      throw boom;
    });
    assert.equal(await rejection(gather(survivor, failing)), boom);
    assert.equal(survivor.done(), false);
    await survivor;
    assert.equal(survivorFinished, true);
  }, { loopFactory: () => new VirtualTimeLoop() });
});

test("with returnExceptions errors and cancellations are returned as results", async () => {
  await run(async () => {
    const boom = new Error("boom");
    const cancelled = createTask(() => sleep(10));
    cancelled.cancel();
    const results = await gather([sleep(0, "ok"), Promise.reject(boom), cancelled], { returnExceptions: true });
    assert.equal(results[0], "ok");
    assert.equal(results[1], boom);
    assert.ok(results[2] instanceof CancelledError);
  });
});

test("a cancelled child without returnExceptions fails the gather with CancelledError", async () => {
  await run(async () => {
    const child = createTask(() => sleep(10));
    const g = gather(child, sleep(0.001));
    child.cancel();
    assert.ok((await rejection(g)) instanceof CancelledError);
  });
});

test("cancelling the gather cancels all children", async () => {
  await run(async () => {
    const children = [createTask(() => sleep(10)), createTask(() => sleep(10))];
    const g = gather(...children);
    await sleep(0);
    assert.equal(g.cancel(), true);
    assert.ok((await rejection(g)) instanceof CancelledError);
    assert.ok(children.every((c) => c.cancelled()));
    assert.equal(g.cancel(), false);
  });
});

test("the same awaitable passed twice is gathered once", async () => {
  await run(async () => {
    let runs = 0;
    const t = createTask(async () => ++runs);
    assert.deepEqual(await gather(t, t), [1, 1]);
    assert.equal(runs, 1);
  });
});

test("gather refuses functions and non-awaitables with a message saying what to pass", async () => {
  await run(async () => {
    assert.throws(() => gather((async () => 1) as never), /got a function: call it/);
    assert.throws(() => gather(42 as never), /Future, a Task or a promise is required/);
    assert.throws(() => gather([sleep(0)], "nope" as never), /options object/);
  });
});

test("promise children: results in order among futures, the first rejection fails the gather, later ones are handled", async () => {
  await run(async () => {
    const { getRunningLoop } = await import("../../src/index.ts");
    const fut = getRunningLoop().createFuture<string>();
    getRunningLoop().callLater(0.001, () => fut.setResult("future"));
    const slow = new Promise<string>((resolve) => setTimeout(resolve, 5, "slow promise"));
    assert.deepEqual(await gather(slow, fut, Promise.resolve(3), createTask(async () => "task")), ["slow promise", "future", 3, "task"]);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const first = new Error("first");
      const late = new Promise((_, reject) => setTimeout(reject, 5, new Error("late")));
      assert.equal(await rejection(gather(late, Promise.reject(first), sleep(0.02))), first);
      // A refused argument after a rejected promise: the TypeError, and the rejection is handled.
      assert.throws(() => gather(Promise.reject(new Error("before the bad one")), 42 as never), /Future, a Task or a promise is required/);
      await sleep(0.02);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

test("cancelling a gather with promise children: with returnExceptions it ends cancelled once its futures are done", async () => {
  await run(async () => {
    const pending = new Promise<never>(() => {});
    const child = createTask(() => sleep(10));
    const g = gather([pending, child, Promise.resolve("done")], { returnExceptions: true });
    await sleep(0);
    assert.equal(g.cancel(), true);
    assert.ok((await rejection(g)) instanceof CancelledError);
    assert.equal(child.cancelled(), true);
    const g2 = gather(pending, createTask(() => sleep(10)));
    assert.equal(g2.cancel(), true);
    assert.ok((await rejection(g2)) instanceof CancelledError);
  });
});

test("cancelling a gather cancels every future child, also those after a promise child", async () => {
  await run(async () => {
    const pending = new Promise<never>(() => {});
    const before = createTask(() => sleep(10));
    const after = createTask(() => sleep(10));
    const g = gather(before, pending, after);
    await sleep(0);
    assert.equal(g.cancel(), true);
    assert.ok((await rejection(g)) instanceof CancelledError);
    await sleep(0);
    assert.equal(before.cancelled(), true);
    assert.equal(after.cancelled(), true);
    const later = createTask(() => sleep(10));
    const g2 = gather([pending, later], { returnExceptions: true });
    await sleep(0);
    assert.equal(g2.cancel(), true);
    assert.ok((await rejection(g2)) instanceof CancelledError);
    assert.equal(later.cancelled(), true);
  });
});
