import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  BoundedSemaphore,
  CancelledError,
  Condition,
  Event,
  Future,
  Lock,
  Semaphore,
  TimeoutError,
  createTask,
  run,
  sleep,
  timeout,
  waitFor,
  type Task,
} from "../../src/index.ts";
import { iterations, rejection } from "../helpers/index.ts";

// A regression in a hand-over makes a test hang: fail it instead.
const BOUNDED = { timeout: 20_000 };

/** Lets the loop run until `ready()` holds (bounded, so a broken test fails instead of hanging). */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ready(); i++) await sleep(0);
  assert.ok(ready(), "condition not reached");
}

interface Acquirable {
  acquire(): Promise<true>;
  release(): void;
}

/** Starts a task that acquires `prim`, records `name` in `log`, and releases after one iteration. */
function holder(prim: Acquirable, name: string, log: string[]): Task<void> {
  return createTask(
    async () => {
      await prim.acquire();
      log.push(name);
      try {
        await sleep(0);
      } finally {
        prim.release();
      }
    },
    { name },
  );
}

// ---- Lock ----

void test("Lock: acquire, release, locked() and repr", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    assert.equal(lock.locked(), false);
    assert.equal(await lock.acquire(), true);
    assert.equal(lock.locked(), true);
    const t = createTask(() => lock.acquire());
    await iterations(1);
    assert.equal(inspect(lock), "<Lock [locked, waiters:1]>");
    assert.match(String(t), /awaiting <Lock\.acquire pending>/);
    lock.release();
    assert.equal(await t, true);
    assert.equal(lock.locked(), true);
    lock.release();
    assert.equal(String(lock), "<Lock [unlocked]>");
  });
});

void test("Lock and Semaphore: an uncontended acquire allocates no future (a shared resolved promise)", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    const first = lock.acquire();
    lock.release();
    const second = lock.acquire();
    lock.release();
    assert.equal(first, second);
    assert.ok(!(first instanceof Future));
    const sem = new Semaphore(2);
    assert.equal(sem.acquire(), first);
    assert.equal(await sem.acquire(), true);
    assert.equal(await first, true);
  });
});

void test("Lock: releasing an unlocked lock throws a clear error", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    assert.throws(() => lock.release(), /unlocked lock/);
    await lock.acquire();
    lock.release();
    assert.throws(() => lock.release(), /unlocked lock/);
  });
});

void test("Lock: waiters get the lock in arrival order", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    const log: string[] = [];
    await lock.acquire();
    const tasks = ["a", "b", "c", "d"].map((n) => holder(lock, n, log));
    await iterations(1);
    lock.release();
    await Promise.all(tasks);
    assert.deepEqual(log, ["a", "b", "c", "d"]);
    assert.equal(lock.locked(), false);
  });
});

void test("Lock: no barging — a newcomer cannot take the lock from a woken waiter", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    const log: string[] = [];
    await lock.acquire();
    const waiter = holder(lock, "waiter", log);
    await iterations(1);
    lock.release(); // handed to the waiter, which has not run yet
    assert.equal(lock.locked(), true);
    const newcomer = holder(lock, "newcomer", log);
    await Promise.all([waiter, newcomer]);
    assert.deepEqual(log, ["waiter", "newcomer"]);
  });
});

void test("Lock: a waiter cancelled in line takes nothing and the next waiter gets the lock", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    const log: string[] = [];
    await lock.acquire();
    const a = holder(lock, "a", log);
    const b = holder(lock, "b", log);
    await iterations(1);
    a.cancel();
    await iterations(1);
    assert.equal(a.cancelled(), true);
    assert.equal(inspect(lock), "<Lock [locked, waiters:1]>");
    lock.release();
    await b;
    assert.deepEqual(log, ["b"]);
    assert.equal(lock.locked(), false);
  });
});

void test("Lock: woken and cancelled in the same turn passes the lock on (acquire throws CancelledError)", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    const log: string[] = [];
    await lock.acquire();
    let caught: unknown = null;
    const a = createTask(async () => {
      try {
        await lock.acquire();
        log.push("a got the lock");
      } catch (error) {
        caught = error;
        await sleep(0); // the cancel was delivered once: this await is not interrupted
        log.push("a cleaned up");
      }
    });
    const b = holder(lock, "b", log);
    await iterations(1);
    lock.release(); // hands the lock to a ...
    a.cancel("stop"); // ... which is cancelled before it runs
    await Promise.all([a, b]);
    assert.ok(caught instanceof CancelledError);
    assert.equal(caught.message, "stop");
    assert.deepEqual(log.sort(), ["a cleaned up", "b"]);
    assert.equal(lock.locked(), false);
  });
});

void test("Lock: waitFor and timeout around acquire leave the lock consistent", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    await lock.acquire();
    await assert.rejects(waitFor(lock.acquire(), 0.01), TimeoutError);
    await assert.rejects(
      timeout(0.01, () => lock.acquire()),
      TimeoutError,
    );
    assert.equal(inspect(lock), "<Lock [locked]>");
    lock.release();
    assert.equal(lock.locked(), false);
  });
});

void test("Lock: enter() with await using releases on normal exit and on error", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    {
      await using _ = await lock.enter();
      assert.equal(lock.locked(), true);
    }
    assert.equal(lock.locked(), false);
    await assert.rejects(async () => {
      await using _ = await lock.enter();
      throw new Error("boom");
    }, /boom/);
    assert.equal(lock.locked(), false);
    // Contended: the second enter waits for the first to dispose.
    const log: string[] = [];
    const body = async (name: string) => {
      await using _ = await lock.enter();
      log.push(`${name} in`);
      await sleep(0);
      log.push(`${name} out`);
    };
    await Promise.all([createTask(() => body("x")), createTask(() => body("y"))]);
    assert.deepEqual(log, ["x in", "x out", "y in", "y out"]);
    assert.equal(lock.locked(), false);
  });
});

// ---- Event ----

void test("Event: wait blocks until set, wakes every waiter in order; clear resets", BOUNDED, async () => {
  await run(async () => {
    const event = new Event();
    const log: number[] = [];
    const tasks = [1, 2, 3].map((i) =>
      createTask(async () => {
        assert.equal(await event.wait(), true);
        log.push(i);
      }),
    );
    await iterations(2);
    assert.deepEqual(log, []);
    assert.equal(inspect(event), "<Event [unset, waiters:3]>");
    event.set();
    assert.equal(event.isSet(), true);
    await Promise.all(tasks);
    assert.deepEqual(log, [1, 2, 3]);
    assert.equal(await event.wait(), true); // set: returns at once
    event.clear();
    assert.equal(event.isSet(), false);
    const late = createTask(() => event.wait());
    await iterations(2);
    assert.equal(late.done(), false);
    event.set();
    assert.equal(await late, true);
    assert.equal(String(event), "<Event [set]>");
  });
});

void test("Event: a cancelled waiter leaves; the others are still woken", BOUNDED, async () => {
  await run(async () => {
    const event = new Event();
    const a = createTask(() => event.wait());
    const b = createTask(() => event.wait());
    await iterations(1);
    a.cancel();
    await iterations(1);
    assert.equal(a.cancelled(), true);
    assert.equal(inspect(event), "<Event [unset, waiters:1]>");
    event.set();
    assert.equal(await b, true);
  });
});

void test("Event: woken then cancelled in the same turn ends cancelled", BOUNDED, async () => {
  await run(async () => {
    const event = new Event();
    const a = createTask(() => event.wait());
    await iterations(1);
    event.set();
    a.cancel();
    assert.ok((await rejection(a)) instanceof CancelledError);
  });
});

// ---- Condition ----

void test("Condition: wait and notify need the lock", BOUNDED, async () => {
  await run(async () => {
    const cond = new Condition();
    await assert.rejects(cond.wait(), /needs the condition's lock/);
    assert.throws(() => cond.notify(), /needs the condition's lock/);
    assert.throws(() => cond.notifyAll(), /needs the condition's lock/);
    await cond.acquire();
    assert.throws(() => cond.notify(-1), RangeError);
    cond.release();
    assert.throws(() => new Condition({} as Lock), TypeError);
  });
});

void test("Condition: notify(n) wakes n waiters in order, notifyAll the rest; wait returns holding the lock", BOUNDED, async () => {
  await run(async () => {
    const cond = new Condition();
    const log: string[] = [];
    const tasks = ["a", "b", "c", "d"].map((name) =>
      createTask(async () => {
        await using _ = await cond.enter();
        assert.equal(await cond.wait(), true);
        assert.equal(cond.locked(), true);
        log.push(name);
      }),
    );
    await until(() => String(cond) === "<Condition [unlocked, waiters:4]>");
    {
      await using _ = await cond.enter();
      cond.notify(2);
    }
    await until(() => log.length === 2);
    await iterations(2);
    assert.deepEqual(log, ["a", "b"]);
    {
      await using _ = await cond.enter();
      cond.notifyAll();
    }
    await Promise.all(tasks);
    assert.deepEqual(log, ["a", "b", "c", "d"]);
    assert.equal(cond.locked(), false);
  });
});

void test("Condition: waitFor re-checks the predicate after each notification", BOUNDED, async () => {
  await run(async () => {
    const cond = new Condition();
    let value = 0;
    const t = createTask(async () => {
      await using _ = await cond.enter();
      return await cond.waitFor(() => value >= 3 && `value=${value}`);
    });
    for (let i = 0; i < 3; i++) {
      await iterations(2);
      await using _ = await cond.enter();
      value += 1;
      cond.notifyAll();
    }
    assert.equal(await t, "value=3");
  });
});

void test("Condition: a cancelled wait takes the lock back before throwing", BOUNDED, async () => {
  await run(async () => {
    const cond = new Condition();
    let heldInCatch: boolean | null = null;
    const t = createTask(async () => {
      await cond.acquire();
      try {
        await cond.wait();
      } catch (error) {
        heldInCatch = cond.locked();
        cond.release();
        throw error;
      }
    });
    await until(() => String(cond) === "<Condition [unlocked, waiters:1]>");
    await cond.acquire(); // the lock is ours while t is cancelled
    t.cancel();
    await iterations(3);
    assert.equal(t.done(), false); // still waiting to take the lock back
    cond.release();
    assert.ok((await rejection(t)) instanceof CancelledError);
    assert.equal(heldInCatch, true);
    assert.equal(cond.locked(), false);
  });
});

void test("Condition: notified then cancelled in the same turn passes the notification on", BOUNDED, async () => {
  await run(async () => {
    const cond = new Condition();
    const log: string[] = [];
    const waiter = (name: string) =>
      createTask(async () => {
        await using _ = await cond.enter();
        await cond.wait();
        log.push(name);
      });
    const a = waiter("a");
    const b = waiter("b");
    await until(() => String(cond) === "<Condition [unlocked, waiters:2]>");
    await cond.acquire();
    cond.notify(1); // notifies a ...
    a.cancel(); // ... which is cancelled before it runs
    cond.release();
    assert.ok((await rejection(a)) instanceof CancelledError);
    await b; // b got a's notification
    assert.deepEqual(log, ["b"]);
    assert.equal(cond.locked(), false);
  });
});

void test("Condition: several conditions can share one lock", BOUNDED, async () => {
  await run(async () => {
    const lock = new Lock();
    const c1 = new Condition(lock);
    const c2 = new Condition(lock);
    await c1.acquire();
    assert.equal(c2.locked(), true);
    c2.release();
    assert.equal(lock.locked(), false);
  });
});

// ---- Semaphore / BoundedSemaphore ----

void test("Semaphore: bad initial values are rejected", BOUNDED, () => {
  assert.throws(() => new Semaphore(-1), RangeError);
  assert.throws(() => new Semaphore(1.5), TypeError);
  assert.throws(() => new Semaphore("2" as unknown as number), TypeError);
  assert.throws(() => new BoundedSemaphore(-3), /BoundedSemaphore initial value must be >= 0/);
});

void test("Semaphore: permits, FIFO waiters, no barging, repr", BOUNDED, async () => {
  await run(async () => {
    const sem = new Semaphore(2);
    assert.equal(String(sem), "<Semaphore [unlocked, value:2]>");
    await sem.acquire();
    await sem.acquire();
    assert.equal(sem.locked(), true);
    const log: string[] = [];
    const tasks = ["a", "b", "c"].map((n) => holder(sem, n, log));
    await iterations(1);
    assert.equal(inspect(sem), "<Semaphore [locked, waiters:3]>");
    sem.release(); // handed to a
    const newcomer = holder(sem, "newcomer", log);
    sem.release(); // handed to b
    await Promise.all([...tasks, newcomer]);
    assert.deepEqual(log, ["a", "b", "c", "newcomer"]);
    assert.equal(String(sem), "<Semaphore [unlocked, value:2]>");
  });
});

void test("Semaphore: cancelled waiters take no permit, including woken-then-cancelled ones", BOUNDED, async () => {
  await run(async () => {
    const sem = new Semaphore(0);
    const log: string[] = [];
    const a = holder(sem, "a", log);
    const b = holder(sem, "b", log);
    const c = holder(sem, "c", log);
    await iterations(1);
    a.cancel(); // cancelled in line
    await iterations(1);
    sem.release(); // handed to b ...
    b.cancel(); // ... cancelled before it ran: passes the permit to c
    await assert.rejects(a, CancelledError);
    await assert.rejects(b, CancelledError);
    await c;
    assert.deepEqual(log, ["c"]);
    assert.equal(String(sem), "<Semaphore [unlocked, value:1]>");
  });
});

void test("Semaphore: enter() releases on exit; BoundedSemaphore refuses extra releases", BOUNDED, async () => {
  await run(async () => {
    const sem = new BoundedSemaphore(2);
    {
      await using _a = await sem.enter();
      await using _b = await sem.enter();
      assert.equal(sem.locked(), true);
    }
    assert.equal(String(sem), "<BoundedSemaphore [unlocked, value:2]>");
    assert.throws(() => sem.release(), /released too many times/);
    await sem.acquire();
    sem.release();
    assert.throws(() => sem.release(), /released too many times/);
    // A plain Semaphore may be released past its initial value.
    const plain = new Semaphore(1);
    plain.release();
    assert.equal(String(plain), "<Semaphore [unlocked, value:2]>");
  });
});
