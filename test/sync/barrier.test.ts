import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { Barrier, BrokenBarrierError, CancelledError, createTask, run, sleep } from "../../src/index.ts";
import { iterations, rejection } from "../helpers/index.ts";

// A regression in a hand-over makes a test hang: fail it instead.
const BOUNDED = { timeout: 20_000 };

void test("Barrier: bad parties are rejected", BOUNDED, () => {
  assert.throws(() => new Barrier(0), RangeError);
  assert.throws(() => new Barrier(2.5), TypeError);
  assert.throws(() => new Barrier("3" as unknown as number), TypeError);
});

void test("Barrier: a round passes when all parties arrive, with arrival indexes; then it refills", BOUNDED, async () => {
  await run(async () => {
    const barrier = new Barrier(3);
    assert.equal(barrier.parties, 3);
    const passed: string[] = [];
    const party = (name: string) =>
      createTask(async () => {
        const index = await barrier.wait();
        passed.push(name);
        return index;
      });
    const a = party("a");
    const b = party("b");
    await iterations(1);
    assert.equal(barrier.nWaiting, 2);
    assert.equal(inspect(barrier), "<Barrier [filling, waiters:2/3]>");
    assert.deepEqual(passed, []);
    const c = party("c");
    assert.deepEqual(await Promise.all([a, b, c]), [0, 1, 2]);
    assert.equal(barrier.nWaiting, 0);
    // The next round starts empty.
    const again = [party("d"), party("e"), party("f")];
    assert.deepEqual(await Promise.all(again), [0, 1, 2]);
    assert.equal(new Barrier(1).parties, 1);
    assert.equal(await new Barrier(1).wait(), 0);
  });
});

void test("Barrier: a cancelled waiter leaves the round, which then needs another arrival", BOUNDED, async () => {
  await run(async () => {
    const barrier = new Barrier(2);
    const a = createTask(() => barrier.wait());
    await iterations(1);
    a.cancel();
    assert.ok((await rejection(a)) instanceof CancelledError);
    assert.equal(barrier.nWaiting, 0);
    const b = createTask(() => barrier.wait());
    await iterations(1);
    assert.equal(b.done(), false);
    assert.equal(await barrier.wait(), 1);
    assert.equal(await b, 0);
  });
});

void test("Barrier: abort breaks waiters and later waits until reset", BOUNDED, async () => {
  await run(async () => {
    const barrier = new Barrier(3);
    const a = createTask(() => barrier.wait());
    await iterations(1);
    await barrier.abort();
    assert.equal(barrier.broken, true);
    assert.ok((await rejection(a)) instanceof BrokenBarrierError);
    await assert.rejects(barrier.wait(), BrokenBarrierError);
    assert.equal(String(barrier), "<Barrier [broken, waiters:0/3]>");
    await barrier.reset();
    assert.equal(barrier.broken, false);
    const tasks = [0, 1, 2].map(() => createTask(() => barrier.wait()));
    assert.deepEqual((await Promise.all(tasks)).sort(), [0, 1, 2]);
  });
});

void test("Barrier: reset fails the tasks waiting now and leaves the barrier usable", BOUNDED, async () => {
  await run(async () => {
    const barrier = new Barrier(2);
    const a = createTask(() => barrier.wait());
    await sleep(0);
    await barrier.reset();
    assert.ok((await rejection(a)) instanceof BrokenBarrierError);
    assert.equal(barrier.broken, false);
    const b = createTask(() => barrier.wait());
    await iterations(1);
    assert.equal(await barrier.wait(), 1);
    assert.equal(await b, 0);
  });
});

void test("Barrier: asyncio's docs example goes filling, draining, filling", BOUNDED, async () => {
  await run(async () => {
    const b = new Barrier(3);
    const a = createTask(() => b.wait());
    const c = createTask(() => b.wait());
    await sleep(0);
    assert.equal(String(b), "<Barrier [filling, waiters:2/3]>");
    assert.equal(await b.wait(), 2);
    assert.equal(String(b), "<Barrier [draining, waiters:0/3]>");
    assert.equal(b.nWaiting, 0);
    await sleep(0);
    assert.equal(String(b), "<Barrier [filling, waiters:0/3]>");
    assert.deepEqual([await a, await c], [0, 1]);
  });
});

void test("Barrier: an arrival during the drain waits for it and joins the next round", BOUNDED, async () => {
  await run(async () => {
    const b = new Barrier(2);
    const first = createTask(() => b.wait());
    await sleep(0);
    assert.equal(await b.wait(), 1); // passes; `first` has not resumed: draining
    assert.equal(String(b), "<Barrier [draining, waiters:0/2]>");
    const early = createTask(() => b.wait()); // arrives while draining
    const late = createTask(() => b.wait());
    assert.equal(await first, 0);
    assert.deepEqual([await early, await late], [0, 1], "the blocked arrivals formed the next round");
    assert.equal(String(b), "<Barrier [filling, waiters:0/2]>");
    // abort() fails the blocked arrivals too.
    const x = createTask(() => b.wait());
    await sleep(0);
    const y = b.wait();
    const blocked = createTask(() => b.wait());
    await sleep(0);
    await y;
    await b.abort();
    assert.ok((await rejection(blocked)) instanceof BrokenBarrierError);
    assert.equal(await x, 0, "a task that had passed keeps its index");
    assert.equal(b.broken, true);
    await b.reset();
    assert.equal(String(b), "<Barrier [filling, waiters:0/2]>");
  });
});

void test("Barrier: enter() resolves to an async-disposable position with the arrival index", BOUNDED, async () => {
  await run(async () => {
    const b = new Barrier(3);
    const indexes: number[] = [];
    const party = async (): Promise<void> => {
      await using pos = await b.enter();
      indexes.push(pos.index);
    };
    await Promise.all([createTask(party), createTask(party), createTask(party)]);
    assert.deepEqual(indexes.sort(), [0, 1, 2]);
    await b.abort();
    await assert.rejects(b.enter(), BrokenBarrierError);
  });
});

void test("Barrier: a waiter cancelled between the round's completion and its wake-up does not stall the drain", BOUNDED, async () => {
  await run(async () => {
    const b = new Barrier(3);
    const a = createTask(() => b.wait());
    const c = createTask(() => b.wait());
    await sleep(0);
    const passing = b.wait();
    a.cancel(); // the round already passed; the wake-up is still scheduled
    assert.equal(await passing, 2);
    assert.ok((await rejection(a)) instanceof CancelledError);
    assert.equal(await c, 1);
    assert.equal(String(b), "<Barrier [filling, waiters:0/3]>");
  });
});
