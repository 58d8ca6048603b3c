import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { inspect } from "node:util";
import {
  CancelledError,
  InvalidStateError,
  Task,
  allTasks,
  createTask,
  currentTask,
  eagerTaskFactory,
  getRunningLoop,
  newEventLoop,
  run,
  sleep,
} from "../../src/index.ts";
import { captureLoopErrors, iterations, rejection } from "../helpers/index.ts";

test("createTask runs the function as a task and resolves to its result", async () => {
  const result = await run(async () => {
    const t = createTask(async () => {
      await sleep(0.001);
      return 7;
    });
    assert.ok(t instanceof Task);
    assert.equal(t.done(), false);
    const value = await t;
    assert.equal(t.done(), true);
    assert.equal(t.result(), 7);
    return value;
  });
  assert.equal(result, 7);
});

test("a task starts on the next loop iteration, not synchronously", async () => {
  await run(async () => {
    const order: string[] = [];
    const t = createTask(async () => {
      order.push("task");
    });
    order.push("creator");
    await t;
    assert.deepEqual(order, ["creator", "task"]);
  });
});

test("currentTask() is the task through any depth of plain async calls", async () => {
  await run(async () => {
    const main = currentTask();
    assert.ok(main instanceof Task);
    // Tasks are thenables: hand them through promises wrapped in an object.
    async function deep(n: number): Promise<{ task: Task | null }> {
      await sleep(0);
      return n === 0 ? { task: currentTask() } : deep(n - 1);
    }
    const child = createTask(async () => ({ inner: (await deep(5)).task, self: currentTask() }));
    const { inner, self } = await child;
    assert.equal(inner, child);
    assert.equal(self, child);
    assert.equal((await deep(3)).task, main);
  });
});

test("currentTask() is null outside tasks and inside plain loop callbacks", async () => {
  assert.equal(currentTask(), null);
  await run(async () => {
    const loop = getRunningLoop();
    const seen = await new Promise<unknown>((resolve) => loop.callSoon(() => resolve(currentTask())));
    assert.equal(seen, null);
  });
});

test("a task whose function throws ends with that exception", async () => {
  await run(async () => {
    const boom = new Error("boom");
    const t = createTask(async () => {
      await sleep(0);
      throw boom;
    });
    assert.equal(await rejection(t), boom);
    assert.equal(t.exception(), boom);
    assert.throws(() => t.result(), /boom/);
  });
});

test("a synchronous function works as a task body", async () => {
  await run(async () => {
    assert.equal(await createTask(() => 5), 5);
    const error = await rejection(
      createTask(() => {
        throw new TypeError("sync");
      }),
    );
    assert.ok(error instanceof TypeError);
  });
});

test("cancel() before the task starts: the body never runs", async () => {
  await run(async () => {
    let ran = false;
    const t = createTask(async () => {
      ran = true;
    });
    assert.equal(t.cancel("early"), true);
    const error = await rejection(t);
    assert.ok(error instanceof CancelledError);
    assert.equal((error).message, "early");
    assert.equal(ran, false);
    assert.equal(t.cancelled(), true);
  });
});

test("cancel() on a done task returns false", async () => {
  await run(async () => {
    const t = createTask(async () => 1);
    await t;
    assert.equal(t.cancel(), false);
    assert.equal(t.cancelled(), false);
  });
});

test("setResult/setException are refused on tasks", async () => {
  await run(async () => {
    const t = createTask(() => sleep(0));
    assert.throws(() => t.setResult(undefined), /Task does not support setResult/);
    assert.throws(() => t.setException(new Error("x")), /Task does not support setException/);
    await t;
  });
});

test("task names: default Task-N, explicit names, setName", async () => {
  await run(async () => {
    const a = createTask(() => sleep(0));
    assert.match(a.getName(), /^Task-\d+$/);
    const b = createTask(() => sleep(0), { name: "worker-3" });
    assert.equal(b.getName(), "worker-3");
    b.setName("renamed");
    assert.equal(b.getName(), "renamed");
    assert.match(inspect(b), /<Task pending name=renamed/);
    await a;
    await b;
    assert.match(String(b), /<Task finished name=renamed .*result=undefined/);
    assert.throws(() => createTask(() => 1, { name: 5 as unknown as string }), TypeError);
  });
});

test("createTask rejects a promise with a message that says to pass a function", async () => {
  await run(async () => {
    const promise = sleep(0);
    assert.throws(() => createTask(promise as never), /takes a function that returns a promise, e.g\. createTask\(\(\) => work\(\)\)/);
    await promise;
  });
});

test("createTask outside a running loop says there is none", () => {
  assert.throws(() => createTask(async () => 1), /no running event loop/);
});

test("result() too early is an InvalidStateError that says what to do", async () => {
  await run(async () => {
    const t = createTask(() => sleep(0.001));
    assert.throws(() => t.result(), (e: unknown) => e instanceof InvalidStateError && /await the future/.test(e.message));
    assert.throws(() => t.exception(), InvalidStateError);
    await t;
  });
});

test("allTasks() holds every pending task and drops finished ones", async () => {
  await run(async () => {
    const t = createTask(() => sleep(0.01));
    const all = allTasks();
    assert.ok(all.has(t));
    assert.ok(all.has(currentTask()!));
    await t;
    assert.equal(allTasks().has(t), false);
  });
});

test("a pending task is kept alive by the loop even with no reference to it", async () => {
  await run(async () => {
    let finished = false;
    createTask(async () => {
      await sleep(0.02);
      finished = true;
    });
    if (typeof globalThis.gc === "function") globalThis.gc();
    await sleep(0.05);
    assert.equal(finished, true);
  });
});

test("task.signal aborts when cancellation is requested, with a CancelledError reason", async () => {
  await run(async () => {
    let seen: AbortSignal | undefined;
    const t = createTask(async () => {
      seen = currentTask()!.signal;
      await new Promise<void>((resolve) => seen!.addEventListener("abort", () => resolve()));
      return "aborted-listener-ran";
    });
    await sleep(0);
    assert.equal(seen!.aborted, false);
    t.cancel("stop");
    assert.equal(seen!.aborted, true);
    assert.ok(seen!.reason instanceof CancelledError);
    // The body awaited only a foreign promise, so the cancel lands when it returns.
    assert.ok((await rejection(t)) instanceof CancelledError);
  });
});

test("task.signal stops Node APIs promptly (events.once with a signal)", async () => {
  await run(async () => {
    const emitter = new EventEmitter();
    const t = createTask(async () => {
      await once(emitter, "never", { signal: currentTask()!.signal });
    });
    await sleep(0);
    t.cancel();
    const error = await rejection(t);
    assert.ok(error instanceof CancelledError, `got ${String(error)}`);
  });
});

test("uncancel() back to zero gives the task a fresh, unaborted signal", async () => {
  await run(async () => {
    const t = currentTask()!;
    const child = createTask(async () => {
      try {
        await sleep(10);
      } catch {
        // swallowed on purpose: the test checks the counters
      }
    });
    await sleep(0);
    child.cancel();
    await child;
    assert.equal(child.cancelling(), 1);
    assert.equal(t.cancelling(), 0);
    const first = t.signal;
    t.cancel();
    assert.equal(t.cancelling(), 1);
    assert.equal(first.aborted, true);
    assert.equal(t.uncancel(), 0);
    assert.equal(t.signal.aborted, false);
    assert.notEqual(t.signal, first);
    // The pending cancel was dropped by uncancel(): this sleep completes.
    await sleep(0);
  });
});

test("'Task exception was never retrieved' is reported once, at loop close, with the task", async () => {
  const reports: unknown[] = [];
  const loop = newEventLoop();
  loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
  const boom = new Error("never looked at");
  let task: Task | undefined;
  await loop.runUntilComplete(async () => {
    task = createTask(async () => {
      throw boom;
    }, { name: "forgotten" });
    await sleep(0.001);
  });
  loop.close();
  loop.close();
  assert.equal(reports.length, 1);
  const ctx = reports[0] as { message: string; exception: unknown; task: Task };
  assert.match(ctx.message, /Task exception was never retrieved/);
  assert.equal(ctx.exception, boom);
  assert.equal(ctx.task, task);
  assert.equal(ctx.task.getName(), "forgotten");
});

test("a retrieved exception is not reported", async () => {
  const reports: unknown[] = [];
  const loop = newEventLoop();
  loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
  await loop.runUntilComplete(async () => {
    const t = createTask(async () => {
      throw new Error("seen");
    });
    await sleep(0.001);
    assert.ok(t.exception() instanceof Error);
    const u = createTask(async () => {
      throw new Error("awaited");
    });
    await rejection(u);
  });
  loop.close();
  assert.deepEqual(reports, []);
});

test("'never retrieved' is reported when a failed task is garbage-collected", { skip: typeof globalThis.gc !== "function" && "needs --expose-gc" }, async () => {
  await run(async () => {
    const reports = captureLoopErrors();
    (() => {
      createTask(async () => {
        throw new Error("collected");
      });
    })();
    await iterations(3);
    for (let i = 0; i < 20 && reports.length === 0; i++) {
      globalThis.gc!();
      await sleep(0.01);
    }
    assert.equal(reports.length, 1);
    assert.match(String(reports[0]!.message), /never retrieved/);
    assert.equal((reports[0]!.exception as Error).message, "collected");
    assert.ok(reports[0]!.task instanceof Task);
  });
});

test("'Task was destroyed but it is pending!' when a loop closes over pending tasks", async () => {
  const reports: { message: string; task?: unknown }[] = [];
  const loop = newEventLoop();
  loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
  let pending: Task | undefined;
  await loop.runUntilComplete(async () => {
    pending = createTask(() => sleep(10));
    await sleep(0);
  });
  loop.close();
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.message, "Task was destroyed but it is pending!");
  assert.equal(reports[0]!.task, pending);
});

test("eagerTaskFactory starts the body synchronously inside createTask", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    loop.setTaskFactory(eagerTaskFactory);
    assert.equal(loop.getTaskFactory(), eagerTaskFactory);
    const order: string[] = [];
    const t = createTask(async () => {
      order.push("body-start");
      await sleep(0);
      order.push("body-end");
      return { task: currentTask() };
    });
    order.push("after-create");
    assert.equal((await t).task, t);
    assert.deepEqual(order, ["body-start", "after-create", "body-end"]);
    loop.setTaskFactory(null);
  });
});

test("a task awaiting itself gets an error instead of a deadlock", async () => {
  await run(async () => {
    const t = createTask(async (): Promise<unknown> => {
      await sleep(0);
      return currentTask(); // returning a task from an async function awaits it
    });
    assert.match(String(await rejection(t)), /Task .* cannot await itself/);
  });
});

test("awaiting a future of another loop fails with a clear error", async () => {
  const other = newEventLoop();
  const foreign = other.createFuture<number>();
  await run(async () => {
    const error = await rejection(foreign);
    assert.match(String(error), /attached to a different loop/);
  });
  other.close();
});
