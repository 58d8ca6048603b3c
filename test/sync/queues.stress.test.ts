// Seeded stress tests: producers and consumers with random cancellations and timeouts, including
// cancels that land in the same turn as the hand-over. Every item must be delivered exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LifoQueue, PriorityQueue, Queue, QueueFull, QueueEmpty, run, sleep, waitFor } from "../../src/index.ts";
import { Ops, isInterruption, seeded } from "../helpers/stress.ts";

// A regression in a hand-over makes a test hang: fail it instead.
const BOUNDED = { timeout: 20_000 };

// Nobody waits for something the queue could give now: a lost slot or item would show here.
function checkInvariants(q: Queue<number>): void {
  const repr = String(q);
  if (/ putters=/.test(repr)) assert.ok(q.full(), `putters wait on a queue that is not full: ${repr}`);
  if (/ getters=/.test(repr)) assert.ok(q.empty(), `getters wait on a queue that holds items: ${repr}`);
}

async function stressQueue(q: Queue<number>, seed: number): Promise<void> {
  const random = seeded(seed);
  const ops = new Ops();
  const putOk = new Set<number>();
  const putFailed = new Set<number>();
  const started = new Set<number>(); // a put task cancelled before it started never called put()
  const got: number[] = [];
  let nextId = 0;
  const total = 4000;
  for (let step = 0; step < total; step++) {
    const r = random();
    if (r < 0.4) {
      const id = nextId++;
      ops.spawn(async (self) => {
        started.add(id);
        try {
          const put = random() < 0.25 ? waitFor(q.put(id), random() * 0.002) : q.put(id);
          await ops.inLine(self(), put);
          putOk.add(id);
        } catch (error) {
          if (!isInterruption(error)) throw error;
          putFailed.add(id);
        }
        if (random() < 0.2) ops.cancelHead(); // a putter or getter just woken by someone else
      });
    } else if (r < 0.8) {
      ops.spawn(async (self) => {
        let item: number;
        try {
          const get = random() < 0.25 ? waitFor(q.get(), random() * 0.002) : q.get();
          item = await ops.inLine(self(), get);
        } catch (error) {
          if (!isInterruption(error)) throw error;
          return;
        }
        got.push(item);
        q.taskDone();
        if (random() < 0.3) ops.cancelHead(); // the getter or putter this get just woke
      });
    } else if (r < 0.85) {
      const id = nextId++;
      started.add(id);
      try {
        q.putNowait(id);
        putOk.add(id);
      } catch (error) {
        if (!(error instanceof QueueFull)) throw error;
        putFailed.add(id);
      }
    } else if (r < 0.9) {
      try {
        got.push(q.getNowait());
        q.taskDone();
      } catch (error) {
        if (!(error instanceof QueueEmpty)) throw error;
      }
    } else if (r < 0.95) {
      ops.cancelRandom(random);
    }
    if (random() < 0.5) await sleep(0);
    checkInvariants(q);
  }
  // Stop the blocked operations, then drain what is left.
  for (const t of ops.pending) t.cancel("end");
  await ops.settle();
  while (!q.empty()) {
    got.push(q.getNowait());
    q.taskDone();
  }
  assert.equal(putOk.size + putFailed.size, started.size, "every put either succeeded or failed");
  const sorted = [...got].sort((a, b) => a - b);
  assert.deepEqual(sorted, [...putOk].sort((a, b) => a - b), "every item put was delivered exactly once");
  for (const id of got) assert.ok(!putFailed.has(id), `item ${id} was delivered although its put failed`);
  assert.ok(putOk.size > total / 10, `ok=${putOk.size}`);
  if (q.maxsize > 0) assert.ok(putFailed.size > 20, `failed=${putFailed.size}: the bounded queue was never contended`);
  // Every delivered item was marked done: join() returns at once.
  await waitFor(q.join(), 1);
  assert.match(String(q), / qsize=0>$/);
}

void test("stress: Queue(5) delivers every item exactly once under random cancellations and timeouts", BOUNDED, async () => {
  await run(() => stressQueue(new Queue<number>(5), 11));
});

void test("stress: unbounded Queue delivers every item exactly once", BOUNDED, async () => {
  await run(() => stressQueue(new Queue<number>(), 12));
});

void test("stress: LifoQueue(3) delivers every item exactly once", BOUNDED, async () => {
  await run(() => stressQueue(new LifoQueue<number>(3), 13));
});

void test("stress: PriorityQueue(4) delivers every item exactly once", BOUNDED, async () => {
  await run(() => stressQueue(new PriorityQueue<number>(4), 14));
});

void test("stress: FIFO order holds for a single consumer despite cancelled getters", BOUNDED, async () => {
  await run(async () => {
    const random = seeded(15);
    const q = new Queue<number>(8);
    const ops = new Ops();
    const got: number[] = [];
    const producer = (async () => {
      for (let i = 0; i < 3000; i++) await q.put(i);
    })();
    while (got.length < 3000) {
      const getter = ops.spawn(() => q.get());
      if (random() < 0.3) await sleep(0);
      if (random() < 0.3) getter.cancel(); // sometimes right after the item was handed over
      try {
        got.push((await getter) as number);
      } catch (error) {
        if (!isInterruption(error)) throw error;
      }
    }
    await producer;
    assert.deepEqual(got, Array.from({ length: 3000 }, (_, i) => i));
  });
});
