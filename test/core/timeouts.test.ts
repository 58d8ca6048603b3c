/** timeout(), timeoutAt(), Timeout and waitFor(), on a virtual clock so nothing sleeps for real. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, Timeout, TimeoutError, createTask, currentTask, getRunningLoop, run, sleep, timeout, timeoutAt, waitFor } from "../../src/index.ts";
import { VirtualTimeLoop } from "../../src/dev/virtual-time-loop.ts";
import { rejection } from "../helpers/index.ts";

const virtual = { loopFactory: () => new VirtualTimeLoop() };

test("timeout() expires: the body is cancelled at its await and TimeoutError is thrown", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const log: string[] = [];
    const error = await rejection(
      timeout(3600, async () => {
        try {
          await sleep(7200);
        } finally {
          log.push(`body finally at ${loop.time()}`);
        }
      }),
    );
    assert.ok(error instanceof TimeoutError);
    assert.ok((error).cause instanceof CancelledError);
    assert.deepEqual(log, ["body finally at 3600"]);
    assert.equal(currentTask()!.cancelling(), 0, "the timeout took its own cancel back");
    await sleep(1); // the task goes on normally
  }, virtual);
});

test("timeout() that does not expire returns the body's value", async () => {
  await run(async () => {
    assert.equal(await timeout(10, () => sleep(5, "v")), "v");
    assert.equal(await timeout(null, () => sleep(1e6, "no limit")), "no limit");
  }, virtual);
});

test("a timeout that did not fire leaves an outside cancellation alone", async () => {
  await run(async () => {
    const t = createTask(() => timeout(100, () => sleep(50)));
    await sleep(1);
    t.cancel();
    const error = await rejection(t);
    assert.ok(error instanceof CancelledError, `expected CancelledError, got ${String(error)}`);
  }, virtual);
});

test("an outside cancel arriving together with the expiry stays a cancellation", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const t = createTask(() => timeout(10, () => sleep(50)));
    // Cancel from outside at the same instant the deadline passes.
    loop.callAt(10, () => t.cancel());
    const error = await rejection(t);
    assert.ok(error instanceof CancelledError, `expected CancelledError, got ${String(error)}`);
  }, virtual);
});

test("nested timeouts: the inner one fires, the outer one is untouched", async () => {
  await run(async () => {
    const result = await timeout(100, async (outer) => {
      const inner = await rejection(timeout(1, () => sleep(10)));
      assert.ok(inner instanceof TimeoutError);
      assert.equal(outer.expired(), false);
      return "outer survived";
    });
    assert.equal(result, "outer survived");
  }, virtual);
});

test("nested timeouts: the outer one fires inside the inner body; the inner does not claim it", async () => {
  await run(async () => {
    let innerSaw: unknown;
    const error = await rejection(
      timeout(1, async () => {
        try {
          await timeout(100, () => sleep(10));
        } catch (e) {
          innerSaw = e;
          throw e;
        }
      }),
    );
    assert.ok(innerSaw instanceof CancelledError, "inner timeout passes the outer's cancel through");
    assert.ok(error instanceof TimeoutError);
  }, virtual);
});

test("Timeout: when(), reschedule() to extend or remove, expired()", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    await timeout(1, async (cm) => {
      assert.equal(cm.when(), 1);
      cm.reschedule(loop.time() + 10);
      await sleep(5);
      cm.reschedule(null);
      await sleep(100);
      assert.equal(cm.expired(), false);
    });
    let handle: Timeout | undefined;
    await rejection(
      timeout(1, async (cm) => {
        handle = cm;
        cm.reschedule(loop.time() - 1); // a past deadline expires at once
        await sleep(10);
      }),
    );
    assert.equal(handle!.expired(), true);
    assert.throws(() => handle!.reschedule(5), /Cannot change the deadline of a timeout that is expired/);
    assert.throws(() => new Timeout(5).reschedule(1), /has not been entered/);
  }, virtual);
});

test("timeoutAt() takes a loop time", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const error = await rejection(timeoutAt(loop.time() + 2, () => sleep(3)));
    assert.ok(error instanceof TimeoutError);
    assert.equal(loop.time(), 2);
  }, virtual);
});

test("a body that swallows the cancel still ends the timeout normally and unexpired count is restored", async () => {
  await run(async () => {
    const value = await timeout(1, async () => {
      try {
        await sleep(10);
      } catch {
        return "swallowed";
      }
      return "slept";
    });
    assert.equal(value, "swallowed");
    assert.equal(currentTask()!.cancelling(), 0);
  }, virtual);
});

test("timeout() outside a task and with bad arguments gives clear errors", async () => {
  await assert.rejects(() => timeout(1, async () => undefined), /no running event loop/);
  await run(async () => {
    await assert.rejects(() => timeout("1" as never, async () => undefined), TypeError);
    await assert.rejects(() => timeout(1, "body" as never), /body must be an async function/);
    const loop = getRunningLoop();
    const fromCallback = await new Promise<unknown>((resolve) =>
      loop.callSoon(() => {
        timeout(1, async () => undefined).then(resolve, resolve);
      }),
    );
    assert.match(String(fromCallback), /must be used inside a task/);
  }, virtual);
});

test("waitFor: returns the result in time, cancels the work and throws TimeoutError otherwise", async () => {
  await run(async () => {
    assert.equal(await waitFor(sleep(1, "fast"), 5), "fast");
    assert.equal(await waitFor(sleep(1, "no limit"), null), "no limit");
    let cleanedUp = false;
    const work = createTask(async () => {
      try {
        await sleep(100);
      } finally {
        cleanedUp = true;
      }
    });
    const error = await rejection(waitFor(work, 5));
    assert.ok(error instanceof TimeoutError);
    assert.equal(work.cancelled(), true);
    assert.equal(cleanedUp, true, "waitFor waited for the cancelled work to finish");
  }, virtual);
});

test("waitFor with timeout 0: a done future returns, a pending one times out", async () => {
  await run(async () => {
    const done = getRunningLoop().createFuture<number>();
    done.setResult(1);
    assert.equal(await waitFor(done, 0), 1);
    const pending = createTask(() => sleep(1));
    assert.ok((await rejection(waitFor(pending, 0))) instanceof TimeoutError);
    assert.equal(pending.cancelled(), true);
  }, virtual);
});

test("waitFor: work that ignores the cancel and returns its value wins over the timeout", async () => {
  await run(async () => {
    const stubborn = createTask(async () => {
      try {
        await sleep(100);
      } catch {
        return "kept";
      }
      return "slept";
    });
    // The deadline passed, but the work returned a value instead of raising: asyncio returns it.
    assert.equal(await waitFor(stubborn, 1), "kept");
    assert.equal(currentTask()!.cancelling(), 0);
  }, virtual);
});

test("waitFor refuses a function", async () => {
  await run(async () => {
    await assert.rejects(() => waitFor((() => sleep(1)) as never, 1), /not a function: call it/);
  }, virtual);
});
