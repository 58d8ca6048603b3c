import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  CancelledError,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  TimeoutError,
  createTask,
  run,
  sleep,
  waitFor,
} from "../../src/index.ts";
import { iterations, rejection } from "../helpers/index.ts";

// A regression in a hand-over makes a test hang: fail it instead.
const BOUNDED = { timeout: 20_000 };

void test("Queue: maxsize must be an integer; 0 or less is unbounded", BOUNDED, async () => {
  assert.throws(() => new Queue(1.5), /integer/);
  assert.throws(() => new Queue("3" as unknown as number), TypeError);
  assert.throws(() => new PriorityQueue(Number.NaN), TypeError);
  assert.throws(() => new LifoQueue(Infinity), TypeError);
  await run(() => {
    const q = new Queue<number>(-1);
    for (let i = 0; i < 1000; i++) q.putNowait(i);
    assert.equal(q.full(), false);
    assert.equal(q.qsize(), 1000);
    assert.equal(q.maxsize, -1);
  });
});

void test("Queue: FIFO order, nowait errors, qsize/empty/full and repr", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<string>(2);
    assert.equal(q.empty(), true);
    assert.throws(() => q.getNowait(), QueueEmpty);
    q.putNowait("a");
    await q.put("b");
    assert.equal(q.full(), true);
    assert.throws(() => q.putNowait("c"), QueueFull);
    assert.equal(inspect(q), "<Queue maxsize=2 qsize=2 unfinished=2>");
    assert.equal(await q.get(), "a");
    assert.equal(q.getNowait(), "b");
    assert.equal(q.empty(), true);
    const e = new QueueEmpty("x");
    assert.equal(e.name, "QueueEmpty");
    assert.equal(new QueueFull().name, "QueueFull");
    assert.equal(new QueueShutDown().name, "QueueShutDown");
  });
});

void test("Queue: the ring buffer keeps order across growth and wrap-around", BOUNDED, async () => {
  await run(() => {
    const q = new Queue<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < round % 7 + 3; i++) q.putNowait(next++);
      for (let i = 0; i < round % 5 + 1 && !q.empty(); i++) out.push(q.getNowait());
    }
    while (!q.empty()) out.push(q.getNowait());
    assert.deepEqual(out, Array.from({ length: next }, (_, i) => i));
  });
});

void test("Queue: getters are served in arrival order; a newcomer does not take a handed-over item", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>();
    const got: string[] = [];
    const getter = (name: string) =>
      createTask(async () => {
        got.push(`${name}:${await q.get()}`);
      });
    const tasks = [getter("a"), getter("b"), getter("c")];
    await iterations(1);
    assert.equal(inspect(q), "<Queue maxsize=0 qsize=0 getters=3>");
    q.putNowait(1); // straight to a
    assert.equal(q.empty(), true);
    assert.throws(() => q.getNowait(), QueueEmpty);
    q.putNowait(2);
    q.putNowait(3);
    await Promise.all(tasks);
    assert.deepEqual(got, ["a:1", "b:2", "c:3"]);
  });
});

void test("Queue: put waits while full; putters are served in order; a newcomer cannot take a granted slot", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<string>(1);
    q.putNowait("first");
    const putters = ["p1", "p2"].map((item) => createTask(() => q.put(item)));
    await iterations(1);
    assert.equal(inspect(q), "<Queue maxsize=1 qsize=1 putters=2 unfinished=1>");
    assert.equal(q.getNowait(), "first"); // the slot goes to p1
    assert.equal(q.full(), true);
    assert.throws(() => q.putNowait("newcomer"), QueueFull);
    const newcomer = createTask(() => q.put("newcomer"));
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(await q.get());
    await Promise.all([...putters, newcomer]);
    assert.deepEqual(got, ["p1", "p2", "newcomer"]);
  });
});

void test("Queue: a getter cancelled in line takes nothing", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>();
    const a = createTask(() => q.get());
    const b = createTask(() => q.get());
    await iterations(1);
    a.cancel();
    await iterations(1);
    assert.equal(a.cancelled(), true);
    q.putNowait(7);
    assert.equal(await b, 7);
    assert.equal(q.qsize(), 0);
  });
});

void test("Queue: a getter woken and cancelled in the same turn gives its item to the next getter", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>();
    const a = createTask(() => q.get());
    const b = createTask(() => q.get());
    await iterations(1);
    q.putNowait(1); // handed to a ...
    a.cancel(); // ... cancelled before it ran
    assert.ok((await rejection(a)) instanceof CancelledError);
    assert.equal(await b, 1);
  });
});

void test("Queue: a woken-then-cancelled getter with nobody behind it puts its item back in front", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>();
    const a = createTask(() => q.get());
    await iterations(1);
    q.putNowait(1); // handed to a
    q.putNowait(2);
    a.cancel();
    assert.ok((await rejection(a)) instanceof CancelledError);
    assert.equal(q.getNowait(), 1);
    assert.equal(q.getNowait(), 2);
  });
});

void test("Queue: a putter woken and cancelled in the same turn does not put, and its slot goes on", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<string>(1);
    q.putNowait("x");
    const p1 = createTask(() => q.put("p1"));
    const p2 = createTask(() => q.put("p2"));
    await iterations(1);
    assert.equal(q.getNowait(), "x"); // slot granted to p1 ...
    p1.cancel(); // ... cancelled before it ran
    assert.ok((await rejection(p1)) instanceof CancelledError);
    await p2;
    assert.equal(q.getNowait(), "p2");
    assert.equal(q.empty(), true);
  });
});

void test("Queue: a putter cancelled by a timeout does not put its item", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>(1);
    await q.put(1);
    await assert.rejects(waitFor(q.put(2), 0.01), TimeoutError);
    assert.equal(q.getNowait(), 1);
    assert.equal(q.empty(), true);
    assert.equal(inspect(q), "<Queue maxsize=1 qsize=0 unfinished=1>");
  });
});

void test("Queue: taskDone and join", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>();
    await q.join(); // nothing put: returns at once
    assert.throws(() => q.taskDone(), /taskDone\(\) called more times than items were put/);
    q.putNowait(1);
    q.putNowait(2);
    let joined = false;
    const joiner = createTask(async () => {
      await q.join();
      joined = true;
    });
    q.getNowait();
    q.taskDone();
    await iterations(2);
    assert.equal(joined, false);
    q.getNowait();
    q.taskDone();
    await joiner;
    assert.equal(joined, true);
    assert.throws(() => q.taskDone(), Error);
  });
});

void test("Queue: shutdown lets getters drain, then fails them; put fails at once", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    const putter = createTask(() => q.put(2));
    await iterations(1);
    q.shutdown();
    assert.ok((await rejection(putter)) instanceof QueueShutDown);
    await assert.rejects(q.put(3), QueueShutDown);
    assert.throws(() => q.putNowait(3), QueueShutDown);
    assert.equal(await q.get(), 1);
    await assert.rejects(q.get(), QueueShutDown);
    assert.throws(() => q.getNowait(), QueueShutDown);
    assert.match(String(q), /shut down/);
  });
});

void test("Queue: shutdown wakes waiting getters with QueueShutDown", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>();
    const getters = [createTask(() => q.get()), createTask(() => q.get())];
    await iterations(1);
    q.shutdown();
    for (const g of getters) assert.ok((await rejection(g)) instanceof QueueShutDown);
  });
});

void test("Queue: shutdown(true) drops the items, counts them done and releases join()", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>();
    for (let i = 0; i < 3; i++) q.putNowait(i);
    q.getNowait(); // taken but not done: join still waits for it
    const joiner = createTask(() => q.join());
    await iterations(1);
    q.shutdown(true);
    assert.equal(q.qsize(), 0);
    await assert.rejects(q.get(), QueueShutDown);
    await iterations(1);
    assert.equal(joiner.done(), false);
    q.taskDone();
    await joiner;
    assert.throws(() => q.taskDone(), Error);
  });
});

void test("Queue: for await yields items until the queue is shut down and drained", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>(3);
    const consumer = createTask(async () => {
      const seen: number[] = [];
      for await (const item of q) {
        seen.push(item);
        q.taskDone();
      }
      return seen;
    });
    for (let i = 0; i < 10; i++) await q.put(i);
    await q.join();
    q.putNowait(10);
    q.shutdown();
    assert.deepEqual(await consumer, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

void test("Queue: for await is interrupted by cancelling its task", BOUNDED, async () => {
  await run(async () => {
    const q = new Queue<number>();
    const consumer = createTask(async () => {
      for await (const _ of q) {
        /* nothing arrives */
      }
    });
    await sleep(0.005);
    consumer.cancel();
    assert.ok((await rejection(consumer)) instanceof CancelledError);
    q.putNowait(1); // nobody took it from the line
    assert.equal(q.qsize(), 1);
  });
});

void test("LifoQueue: last in, first out; a given-back item goes to the bottom", BOUNDED, async () => {
  await run(async () => {
    const q = new LifoQueue<number>();
    for (const i of [1, 2, 3]) q.putNowait(i);
    assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [3, 2, 1]);
    const a = createTask(() => q.get());
    await iterations(1);
    q.putNowait(10); // handed to a
    q.putNowait(20);
    q.putNowait(30);
    a.cancel();
    await assert.rejects(a, CancelledError);
    assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [30, 20, 10]);
    assert.equal(String(q), "<LifoQueue maxsize=0 qsize=0 unfinished=6>");
  });
});

void test("PriorityQueue: smallest first, ties in insertion order, Python-like ordering of arrays", BOUNDED, async () => {
  await run(() => {
    const q = new PriorityQueue<[number, string]>();
    const input: [number, string][] = [
      [3, "c"],
      [1, "b"],
      [2, "x"],
      [1, "a"],
      [2, "x"],
    ];
    for (const item of input) q.putNowait(item);
    const out: [number, string][] = [];
    while (!q.empty()) out.push(q.getNowait());
    assert.deepEqual(out, [
      [1, "a"],
      [1, "b"],
      [2, "x"],
      [2, "x"],
      [3, "c"],
    ]);
    // Equal arrays keep insertion order (identity shows which came first).
    const first: [number, string] = [5, "same"];
    const second: [number, string] = [5, "same"];
    q.putNowait(second === first ? first : first);
    q.putNowait(second);
    assert.equal(q.getNowait(), first);
    assert.equal(q.getNowait(), second);
    // Shorter prefix first; numbers, bigints and booleans compare by value.
    const mixed = new PriorityQueue<unknown>();
    for (const item of [[1, 2], [1], [0, 5, 5]]) mixed.putNowait(item);
    assert.deepEqual([mixed.getNowait(), mixed.getNowait(), mixed.getNowait()], [[0, 5, 5], [1], [1, 2]]);
    for (const item of [3, 2n, true]) mixed.putNowait(item);
    assert.deepEqual([mixed.getNowait(), mixed.getNowait(), mixed.getNowait()], [true, 2n, 3]);
    const strings = new PriorityQueue<string>();
    for (const s of ["pear", "apple", "fig"]) strings.putNowait(s);
    assert.equal(strings.getNowait(), "apple");
  });
});

void test("PriorityQueue: incomparable items throw a TypeError and are not lost", BOUNDED, async () => {
  await run(() => {
    const q = new PriorityQueue<unknown>();
    q.putNowait(1);
    assert.throws(() => q.putNowait("one"), /cannot order string against number.*compare/);
    assert.equal(q.qsize(), 1);
    const objects = new PriorityQueue<[number, object]>();
    objects.putNowait([1, {}]);
    objects.putNowait([2, {}]);
    objects.putNowait([2, {}]);
    // Taking [1, {}] makes the two [2, {}] meet, as heapq would: the get fails and the queue is unchanged.
    assert.throws(() => objects.getNowait(), TypeError);
    assert.equal(objects.qsize(), 3);
    assert.match(String(objects), /qsize=3/);
    assert.throws(() => new PriorityQueue(0, { compare: 3 as unknown as () => number }), TypeError);
  });
});

void test("PriorityQueue: matches a stable reference model under random puts and gets", BOUNDED, async () => {
  await run(() => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const q = new PriorityQueue<{ priority: number; id: number }>(0, { compare: (a, b) => a.priority - b.priority });
    const model: { priority: number; id: number }[] = [];
    const takeFromModel = () => {
      let best = 0;
      for (let i = 1; i < model.length; i++) if (model[i]!.priority < model[best]!.priority) best = i;
      return model.splice(best, 1)[0]!;
    };
    for (let id = 0; id < 3000; id++) {
      const item = { priority: Math.floor(random() * 10), id };
      q.putNowait(item);
      model.push(item);
      while (model.length > 0 && random() < 0.45) assert.equal(q.getNowait(), takeFromModel());
    }
    while (model.length > 0) assert.equal(q.getNowait(), takeFromModel());
    assert.equal(q.empty(), true);
  });
});

void test("PriorityQueue: a compare option orders items; ties still keep insertion order", BOUNDED, async () => {
  await run(() => {
    const q = new PriorityQueue<{ name: string; due: number }>(0, { compare: (a, b) => a.due - b.due });
    for (const [name, due] of [["x", 2], ["y", 1], ["z", 2], ["w", 0]] as const) q.putNowait({ name, due });
    const names: string[] = [];
    while (!q.empty()) names.push(q.getNowait().name);
    assert.deepEqual(names, ["w", "y", "x", "z"]);
  });
});

void test("PriorityQueue: a given-back item keeps its place among equal priorities", BOUNDED, async () => {
  await run(async () => {
    const q = new PriorityQueue<[number, string]>();
    const a = createTask(() => q.get());
    await iterations(1);
    q.putNowait([1, "handed"]); // to a
    q.putNowait([1, "later"]);
    a.cancel();
    await assert.rejects(a, CancelledError);
    const handed = q.getNowait();
    assert.deepEqual(handed, [1, "handed"]);
    assert.deepEqual(q.getNowait(), [1, "later"]);
  });
});
