import { test } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, Runner, createTask, getEventLoop, getRunningLoop, run, sleep, type AbstractEventLoop } from "../../src/index.ts";
import { VirtualTimeLoop } from "../../src/dev/virtual-time-loop.ts";
import { rejection } from "../helpers/index.ts";

test("run() runs main as a task and resolves to its result", async () => {
  assert.equal(await run(async () => (await sleep(0.001)) ?? "done"), "done");
  assert.equal(await run(() => 5), 5);
});

test("run() propagates main's error and still closes the loop", async () => {
  let loop: AbstractEventLoop | undefined;
  const boom = new Error("main failed");
  const error = await rejection(
    run(async () => {
      loop = getRunningLoop();
      throw boom;
    }),
  );
  assert.equal(error, boom);
  assert.equal(loop!.isClosed(), true);
});

test("run() cancels leftover tasks, waits for their cleanup, then closes the loop", async () => {
  const log: string[] = [];
  let leftover: ReturnType<typeof createTask> | undefined;
  let loop: AbstractEventLoop | undefined;
  await run(async () => {
    loop = getRunningLoop();
    leftover = createTask(async () => {
      try {
        await sleep(3600);
      } finally {
        await sleep(0); // cleanup may still await
        log.push("leftover cleaned up");
      }
    });
    await sleep(0);
  });
  assert.deepEqual(log, ["leftover cleaned up"]);
  assert.equal(leftover!.cancelled(), true);
  assert.equal(loop!.isClosed(), true);
  assert.equal(loop!.isRunning(), false);
});

test("run() reports a leftover task that fails during shutdown", async () => {
  const reports: { message: string }[] = [];
  await run(async () => {
    getRunningLoop().setExceptionHandler((_l, ctx) => reports.push(ctx));
    createTask(async () => {
      try {
        await sleep(3600);
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw new Error("cleanup failed");
      }
    });
    await sleep(0);
  });
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.message, "unhandled exception during run() shutdown");
});

test("run() inside a running loop is refused with advice", async () => {
  await run(async () => {
    await assert.rejects(() => run(async () => 1), /cannot be called while an event loop is running: await the function/);
  });
});

test("run() takes a function, not a promise", async () => {
  await assert.rejects(() => run(Promise.resolve(1) as never), /takes an async function/);
});

test("run() sets the event loop for getEventLoop() while it runs and unsets it after", async () => {
  await run(async () => {
    assert.equal(getEventLoop(), getRunningLoop());
  });
  assert.throws(() => getEventLoop(), /There is no current event loop/);
});

test("Runner runs several functions on one loop, then closes it; disposal closes too", async () => {
  let loop: AbstractEventLoop | undefined;
  {
    await using runner = new Runner({ debug: true });
    loop = runner.getLoop();
    assert.equal(loop.getDebug(), true);
    const first = await runner.run(async () => getRunningLoop());
    const second = await runner.run(async () => getRunningLoop());
    assert.equal(first, loop);
    assert.equal(second, loop);
  }
  assert.equal(loop.isClosed(), true);
  const closed = new Runner();
  await closed.close();
  await assert.rejects(() => closed.run(async () => 1), /Runner is closed/);
});

test("Runner with a loopFactory uses that loop", async () => {
  const runner = new Runner({ loopFactory: () => new VirtualTimeLoop() });
  const now = await runner.run(async () => {
    await sleep(100);
    return getRunningLoop().time();
  });
  assert.equal(now, 100);
  await runner.close();
});

test("a main task cancelled from inside ends run() with CancelledError", async () => {
  const error = await rejection(
    run(async () => {
      const me = (await import("../../src/index.ts")).currentTask()!;
      getRunningLoop().callSoon(() => me.cancel());
      await sleep(1);
    }),
  );
  assert.ok(error instanceof CancelledError);
});
