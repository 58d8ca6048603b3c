/** Scheduling as asyncio users expect: sleep(0) fairness whatever the depth of async calls. */
import assert from "node:assert/strict";
import test from "node:test";
import { ExceptionGroup, createTask, run, sleep } from "../../src/index.ts";
import { VirtualTimeLoop } from "../../src/dev/virtual-time-loop.ts";

async function nest(depth: number, log?: string[]): Promise<void> {
  if (depth > 0) await nest(depth - 1, log);
  log?.push(`return ${depth}`);
}

// How many sleep(0)s the calling task needs before another task gets through `depth` nested
// async calls that never suspend (asyncio needs exactly one, whatever the depth).
async function sleepsNeeded(depth: number): Promise<number> {
  let finished = false;
  createTask(async () => {
    await sleep(0);
    await nest(depth);
    finished = true;
  });
  await sleep(0); // the other task starts and reaches its sleep(0)
  let count = 0;
  while (!finished && count < 1000) {
    await sleep(0);
    count += 1;
  }
  return count;
}

for (const loopFactory of [undefined, () => new VirtualTimeLoop()]) {
  const kind = loopFactory === undefined ? "EventLoop" : "VirtualTimeLoop";
  test(`${kind}: one sleep(0) lets another ready task run to its next suspension through 0, 3, 10, 50 and 200 nested calls`, async () => {
    await run(async () => {
      for (const depth of [0, 3, 10, 50, 200]) assert.equal(await sleepsNeeded(depth), 1, `depth ${depth}`);
    }, loopFactory === undefined ? {} : { loopFactory });
  });
}

test("the tasks woken in one iteration run one after another, each to its next suspension", async () => {
  await run(async () => {
    const log: string[] = [];
    const worker = (name: string) => async () => {
      for (let round = 0; round < 2; round++) {
        await sleep(0);
        log.push(`${name} ${round} start`);
        await nest(5);
        log.push(`${name} ${round} end`);
      }
    };
    const a = createTask(worker("a"));
    const b = createTask(worker("b"));
    await a;
    await b;
    assert.deepEqual(log, ["a 0 start", "a 0 end", "b 0 start", "b 0 end", "a 1 start", "a 1 end", "b 1 start", "b 1 end"]);
  });
});

test("createTask(fn, { eagerStart: true }) runs fn at once, up to its first suspension; tg.createTask too", async () => {
  const { taskGroup, currentTask } = await import("../../src/index.ts");
  await run(async () => {
    const log: string[] = [];
    const t = createTask(
      async () => {
        log.push(`eager in ${currentTask()?.getName()}`);
        await sleep(0);
        log.push("eager resumed");
        return 1;
      },
      { name: "e1", eagerStart: true },
    );
    log.push("after createTask");
    const lazy = createTask(async () => void log.push("lazy"), { eagerStart: false });
    log.push("after lazy createTask");
    assert.equal(await t, 1);
    await lazy;
    assert.deepEqual(log.slice(0, 3), ["eager in e1", "after createTask", "after lazy createTask"]);
    const groupLog: string[] = [];
    await taskGroup(async (tg) => {
      const child = tg.createTask(
        async () => {
          groupLog.push(`child ${currentTask()?.getName()}`);
          await sleep(0);
          return "c";
        },
        { name: "child", eagerStart: true },
      );
      groupLog.push("body");
      // Done without suspending: the group still sees it finish.
      const quick = tg.createTask(async () => "q", { eagerStart: true });
      assert.equal(await child, "c");
      assert.equal(await quick, "q");
    });
    assert.deepEqual(groupLog, ["child child", "body"]);
    // A failing eager child fails the group like any other child.
    await assert.rejects(
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          throw new RangeError("eager failure");
        }, { eagerStart: true });
        await sleep(1);
      }),
      (e: unknown) => e instanceof ExceptionGroup && e.exceptions[0] instanceof RangeError,
    );
  });
});

test("a cancel that lands after the awaited future resolved, before the task resumed, throws at that await", async () => {
  const { CancelledError, getRunningLoop } = await import("../../src/index.ts");
  await run(async () => {
    const loop = getRunningLoop();
    const fut = loop.createFuture<number>();
    const steps: string[] = [];
    const t = createTask(async () => {
      try {
        const value = await fut;
        steps.push(`got ${value}`);
      } catch (error) {
        steps.push(error instanceof CancelledError ? "cancelled at the await" : "other error");
        throw error;
      }
    });
    await sleep(0);
    fut.setResult(1);
    assert.equal(t.cancel(), true);
    await assert.rejects(t, CancelledError);
    assert.deepEqual(steps, ["cancelled at the await"]);
    // The same when the awaited thing is a task that just finished, and from a loop callback.
    const child = createTask(async () => "child result");
    const parent = createTask(async () => await child);
    await sleep(0);
    const other = loop.createFuture<string>();
    const waiter = createTask(() => other);
    await sleep(0);
    loop.callSoon(() => {
      other.setResult("x");
      waiter.cancel();
    });
    await assert.rejects(waiter, CancelledError);
    assert.equal(await parent, "child result", "a cancel that never came changes nothing");
    // A cancel taken back with uncancel() before the task resumed is not delivered.
    const fut2 = loop.createFuture<string>();
    const t2 = createTask(async () => await fut2);
    await sleep(0);
    fut2.setResult("kept");
    t2.cancel();
    t2.uncancel();
    assert.equal(await t2, "kept");
  });
});

test("a future's done callbacks run before the tasks awaiting it resume (asyncio's FIFO)", async () => {
  const { getRunningLoop } = await import("../../src/index.ts");
  await run(async () => {
    const loop = getRunningLoop();
    const order: string[] = [];
    const fut = loop.createFuture<number>();
    fut.addDoneCallback(() => order.push("done callback"));
    const waiter = createTask(async () => {
      await fut.catch(() => undefined);
      order.push("waiter resumed");
    });
    await sleep(0);
    fut.cancel();
    await waiter;
    order.push("main resumed");
    assert.deepEqual(order, ["done callback", "waiter resumed", "main resumed"]);
  });
});

test("a task awaiting a future resumes from the ready queue, after the callbacks already due (asyncio's Task.__wakeup)", async () => {
  const { getRunningLoop } = await import("../../src/index.ts");
  await run(async () => {
    const loop = getRunningLoop();
    const fut = loop.createFuture<number>();
    const order: string[] = [];
    createTask(async () => {
      order.push(`waiter got ${await fut}`);
    });
    await sleep(0);
    loop.callSoon(() => order.push("soon-before"));
    fut.setResult(1);
    loop.callSoon(() => order.push("soon-after"));
    await sleep(0);
    await sleep(0);
    // asyncio prints ['soon-before', 'waiter got 1', 'soon-after']: the wake-up is one more callback.
    assert.deepEqual(order, ["soon-before", "waiter got 1", "soon-after"]);

    // Tasks finishing in one iteration all run before the task awaiting the first of them resumes.
    const tasks = [0, 1, 2].map(() => createTask(() => sleep(0)));
    await tasks[0];
    assert.deepEqual(
      tasks.map((t) => t.done()),
      [true, true, true],
    );
  });
});

test("a cancel between a future's settlement and its awaiter's queued wake-up reaches that await, inside an adopted promise too", async () => {
  const { getRunningLoop, waitFor, CancelledError } = await import("../../src/index.ts");
  await run(async () => {
    const loop = getRunningLoop();
    const fut = loop.createFuture<string>();
    let got: string | undefined;
    let thrown: unknown;
    const inner = async (): Promise<string> => {
      try {
        got = await fut;
        return got;
      } catch (error) {
        thrown = error;
        throw error;
      }
    };
    const t = createTask(() => waitFor(inner(), 10));
    await sleep(0);
    // Both in one iteration: the wake-up that setResult queues comes after the cancel.
    loop.callSoon(() => fut.setResult("item"));
    loop.callSoon(() => t.cancel());
    await assert.rejects(t, CancelledError);
    await sleep(0);
    // The code driving the promise got the cancel at its await; it did not go on in the background.
    assert.equal(got, undefined);
    assert.ok(thrown instanceof CancelledError);
  });
});
