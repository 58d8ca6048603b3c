// Seeded stress tests: many tasks acquiring with random cancellations and timeouts, including the
// cancel that lands in the same turn as the wake-up. Invariants are checked during and after.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BoundedSemaphore, Condition, Event, Lock, Semaphore, run, sleep, waitFor } from "../../src/index.ts";
import { Ops, isInterruption, seeded } from "../helpers/stress.ts";

// A regression in a hand-over makes a test hang: fail it instead.
const BOUNDED = { timeout: 20_000 };

interface Acquirable {
  acquire(): Promise<true>;
  release(): void;
  locked(): boolean;
}

async function stressAcquirable(prim: Acquirable, capacity: number, seed: number): Promise<{ entered: number; interrupted: number }> {
  const random = seeded(seed);
  const ops = new Ops();
  let inside = 0;
  let entered = 0;
  let interrupted = 0;
  const total = 1500;
  for (let n = 0; n < total; n++) {
    ops.spawn(async (self) => {
      try {
        const wait = random() < 0.25 ? waitFor(prim.acquire(), random() * 0.002) : prim.acquire();
        await ops.inLine(self(), wait);
      } catch (error) {
        if (!isInterruption(error)) throw error;
        interrupted += 1;
        return;
      }
      inside += 1;
      entered += 1;
      try {
        assert.ok(inside <= capacity, `${inside} holders of a primitive with capacity ${capacity}`);
        for (let k = Math.floor(random() * 3); k > 0; k--) await sleep(0);
      } finally {
        inside -= 1;
        prim.release();
        if (random() < 0.3) ops.cancelHead(); // the waiter just woken, before it runs
      }
    });
    const r = random();
    if (r < 0.1) ops.cancelRandom(random);
    if (r < 0.5) await sleep(0);
    // Nobody waits while a permit is free: a lost hand-over would show here.
    if (/waiters:/.test(String(prim))) assert.ok(prim.locked(), `waiters on a free primitive: ${String(prim)}`);
  }
  await ops.settle();
  assert.equal(inside, 0);
  assert.equal(prim.locked(), false);
  assert.ok(entered > total / 4 && interrupted > 50, `entered=${entered} interrupted=${interrupted}`);
  return { entered, interrupted };
}

void test("stress: Lock under random cancellations and timeouts stays exclusive and ends free", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    await stressAcquirable(lock, 1, 1);
    assert.equal(String(lock), "<Lock [unlocked]>");
  });
});

void test("stress: Semaphore(3) keeps at most 3 holders and gets every permit back", BOUNDED, async () => {
  await run(async () => {
    const sem = new Semaphore(3);
    await stressAcquirable(sem, 3, 2);
    assert.equal(String(sem), "<Semaphore [unlocked, value:3]>");
  });
});

void test("stress: BoundedSemaphore(2) never sees an extra release", BOUNDED, async () => {
  await run(async () => {
    const sem = new BoundedSemaphore(2);
    await stressAcquirable(sem, 2, 3);
    assert.equal(String(sem), "<BoundedSemaphore [unlocked, value:2]>");
    assert.throws(() => sem.release(), /too many/);
  });
});

void test("stress: Condition delivers every item once and loses no notification", BOUNDED, async () => {
  await run(async () => {
    const random = seeded(4);
    const cond = new Condition();
    const items: number[] = [];
    const consumed: number[] = [];
    const ops = new Ops();
    const total = 800;
    let stop = false;
    // Consumers: each attempt may be cancelled (even right after being notified); they keep trying.
    const consumers = Array.from({ length: 8 }, () =>
      (async () => {
        while (!stop) {
          const op = ops.spawn(async () => {
            await using _ = await cond.enter();
            await cond.waitFor(() => items.length > 0 || stop);
            if (items.length > 0) consumed.push(items.shift()!);
          });
          try {
            await op;
          } catch (error) {
            if (!isInterruption(error)) throw error;
          }
        }
      })(),
    );
    try {
    for (let i = 0; i < total; i++) {
      {
        await using _ = await cond.enter();
        items.push(i);
        cond.notify(1);
        if (random() < 0.3) ops.cancelRandom(random); // maybe the one just notified
      }
      if (random() < 0.5) await sleep(0);
    }
    // A lost notification would leave items behind with every consumer asleep: wait, bounded.
    for (let i = 0; i < 10000 && consumed.length < total; i++) await sleep(0);
    assert.equal(consumed.length, total, `${items.length} items left with every consumer waiting: ${String(cond)}`);
    } finally {
      stop = true;
    }
    {
      await using _ = await cond.enter();
      stop = true;
      cond.notifyAll();
    }
    await Promise.all(consumers);
    await ops.settle();
    assert.deepEqual(consumed, Array.from({ length: total }, (_, i) => i));
    assert.equal(cond.locked(), false);
  });
});

void test("stress: Event wakes every waiter that was not cancelled", BOUNDED, async () => {
  await run(async () => {
    const random = seeded(5);
    for (let round = 0; round < 8; round++) {
      const event = new Event();
      const ops = new Ops();
      const woken = new Set<number>();
      const waiters = Array.from({ length: 200 }, (_, i) =>
        ops.spawn(async () => {
          await event.wait();
          woken.add(i);
        }),
      );
      await sleep(0);
      for (let k = 0; k < 40; k++) ops.cancelRandom(random);
      event.set();
      if (random() < 0.5) ops.cancelRandom(random); // woken, then cancelled in the same turn
      await ops.settle();
      for (const [i, t] of waiters.entries()) assert.equal(woken.has(i), !t.cancelled(), `waiter ${i}`);
      assert.match(String(event), /^<Event \[set\]>$/);
    }
  });
});
