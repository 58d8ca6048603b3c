import { test } from "node:test";
import assert from "node:assert/strict";
import { ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, TimeoutError, asCompleted, createTask, getRunningLoop, run, sleep, wait, type Future } from "../../src/index.ts";
import { VirtualTimeLoop } from "../../src/dev/virtual-time-loop.ts";
import { rejection } from "../helpers/index.ts";

const virtual = { loopFactory: () => new VirtualTimeLoop() };

test("wait ALL_COMPLETED returns when everything is done", async () => {
  await run(async () => {
    const a = createTask(() => sleep(1, "a"));
    const b = createTask(() => sleep(2, "b"));
    const [done, pending] = await wait([a, b]);
    assert.deepEqual([...done].sort((x, y) => String(x.result()).localeCompare(String(y.result()))), [a, b]);
    assert.equal(pending.size, 0);
    assert.equal(getRunningLoop().time(), 2);
    const [d2] = await wait([a], { returnWhen: ALL_COMPLETED });
    assert.ok(d2.has(a));
  }, virtual);
});

test("wait FIRST_COMPLETED returns at the first completion and cancels nothing", async () => {
  await run(async () => {
    const fast = createTask(() => sleep(1));
    const slow = createTask(() => sleep(5));
    const [done, pending] = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
    assert.deepEqual([...done], [fast]);
    assert.deepEqual([...pending], [slow]);
    assert.equal(slow.cancelled(), false);
    await slow;
  }, virtual);
});

test("wait FIRST_EXCEPTION returns at the first error, or when all completed without one", async () => {
  await run(async () => {
    const ok = createTask(() => sleep(1));
    const failing = createTask(async () => {
      await sleep(2);
      throw new Error("x");
    });
    const slow = createTask(() => sleep(10));
    const [done, pending] = await wait([ok, failing, slow], { returnWhen: FIRST_EXCEPTION });
    assert.ok(done.has(ok) && done.has(failing));
    assert.deepEqual([...pending], [slow]);
    assert.equal(getRunningLoop().time(), 2);
    failing.exception();
    const [all] = await wait([slow, ok], { returnWhen: FIRST_EXCEPTION });
    assert.equal(all.size, 2);
  }, virtual);
});

test("wait with a timeout returns what is done; it does not throw or cancel", async () => {
  await run(async () => {
    const slow = createTask(() => sleep(10));
    const [done, pending] = await wait([slow], { timeout: 3 });
    assert.equal(done.size, 0);
    assert.ok(pending.has(slow));
    assert.equal(slow.cancelled(), false);
    assert.equal(getRunningLoop().time(), 3);
    slow.cancel();
  }, virtual);
});

test("wait wraps promises in tasks and rejects bad input clearly", async () => {
  await run(async () => {
    const [done] = await wait([sleep(1, "p")]);
    assert.equal([...done][0]!.result(), "p");
    await assert.rejects(() => wait([]), /at least one/);
    await assert.rejects(() => wait([sleep(0)], { returnWhen: "SOMETIMES" as never }), /invalid returnWhen/);
    await assert.rejects(() => wait(sleep(0) as never), /iterable/);
  }, virtual);
});

test("asCompleted with for...of yields results in completion order", async () => {
  await run(async () => {
    const out: string[] = [];
    for (const next of asCompleted([sleep(3, "c"), sleep(1, "a"), sleep(2, "b")])) out.push(await next);
    assert.deepEqual(out, ["a", "b", "c"]);
  }, virtual);
});

test("asCompleted with for await yields the original tasks, already done (3.13)", async () => {
  await run(async () => {
    const tasks = [createTask(() => sleep(2, "slow")), createTask(() => sleep(1, "fast"))];
    const seen: Future<string>[] = [];
    for await (const t of asCompleted(tasks)) {
      assert.equal(t.done(), true);
      seen.push(t);
    }
    assert.deepEqual(seen, [tasks[1], tasks[0]]);
  }, virtual);
});

test("asCompleted timeout: awaiting past it throws TimeoutError", async () => {
  await run(async () => {
    const it = asCompleted([sleep(1, "in time"), sleep(10, "late")], { timeout: 5 });
    const results: unknown[] = [];
    for (const next of it) results.push(await next.catch((e: unknown) => e));
    assert.equal(results[0], "in time");
    assert.ok(results[1] instanceof TimeoutError);
    assert.equal(getRunningLoop().time(), 5);
  }, virtual);
});

test("asCompleted passes errors through", async () => {
  await run(async () => {
    const boom = new Error("boom");
    const [first] = asCompleted([Promise.reject(boom)]);
    assert.equal(await rejection(first!), boom);
  }, virtual);
});
