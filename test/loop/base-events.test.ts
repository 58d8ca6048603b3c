import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { EventLoop, Handle, TimerHandle, createTask, getRunningLoop, newEventLoop, run, setEventLoop, getEventLoop, sleep, type ExceptionContext } from "../../src/index.ts";
import { VirtualTimeLoop } from "../../src/dev/virtual-time-loop.ts";

const virtual = { loopFactory: () => new VirtualTimeLoop() };

test("callSoon runs callbacks in FIFO order with their arguments", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const out: string[] = [];
    for (let i = 0; i < 5; i++) loop.callSoon((a: string, b: number) => out.push(`${a}${b}`), "x", i);
    const h = loop.callSoon(() => out.push("cancelled"));
    assert.ok(h instanceof Handle);
    h.cancel();
    assert.equal(h.cancelled(), true);
    await sleep(0);
    assert.deepEqual(out, ["x0", "x1", "x2", "x3", "x4"]);
  });
});

test("callbacks scheduled by a callback run in the next iteration", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const out: string[] = [];
    loop.callSoon(() => {
      out.push("a");
      loop.callSoon(() => out.push("c"));
    });
    loop.callSoon(() => out.push("b"));
    await sleep(0);
    await sleep(0);
    assert.deepEqual(out, ["a", "b", "c"]);
  });
});

test("callLater and callAt fire in deadline order; equal deadlines keep scheduling order", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const out: string[] = [];
    loop.callLater(3, () => out.push("3"));
    loop.callLater(1, () => out.push("1a"));
    loop.callAt(loop.time() + 1, () => out.push("1b"));
    const cancelled = loop.callLater(2, () => out.push("2"));
    assert.ok(cancelled instanceof TimerHandle);
    assert.equal(cancelled.when(), loop.time() + 2);
    cancelled.cancel();
    await sleep(5);
    assert.deepEqual(out, ["1a", "1b", "3"]);
  }, virtual);
});

test("real timers fire no earlier than their deadline", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const start = loop.time();
    const fired = await new Promise<number>((resolve) => loop.callLater(0.02, () => resolve(loop.time())));
    assert.ok(fired - start >= 0.02, `fired after ${fired - start}s`);
    const t0 = loop.time();
    await sleep(0.01);
    assert.ok(loop.time() - t0 >= 0.01);
  });
});

test("many cancelled timers are dropped from the heap", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const handles = Array.from({ length: 1000 }, (_, i) => loop.callLater(10 + i, () => assert.fail("cancelled timer ran")));
    for (const h of handles) h.cancel();
    assert.match(String(loop), /timers=\d+/);
    const timers = Number(/timers=(\d+)/.exec(String(loop))![1]);
    assert.ok(timers < 100, `heap still holds ${timers} timers`);
    await sleep(2000);
  }, virtual);
});

test("time() is monotonic seconds", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const a = loop.time();
    await sleep(0.002);
    const b = loop.time();
    assert.ok(b > a);
    assert.ok(b - a < 5, "seconds, not milliseconds");
  });
});

test("runUntilComplete runs a function, a task or a promise; runForever stops on stop()", async () => {
  const loop = newEventLoop();
  assert.equal(await loop.runUntilComplete(async () => 1), 1);
  assert.equal(loop.isRunning(), false);
  assert.equal(await loop.runUntilComplete(Promise.resolve(2)), 2);
  loop.callLater(0.001, () => loop.stop());
  await loop.runForever();
  assert.equal(loop.isRunning(), false);
  const fut = loop.createFuture<number>();
  loop.callLater(0.001, () => loop.stop());
  await assert.rejects(() => loop.runUntilComplete(fut), /Event loop stopped before Future completed/);
  fut.cancel();
  loop.close();
  assert.equal(loop.isClosed(), true);
  assert.throws(() => loop.callSoon(() => undefined), /Event loop is closed/);
  await assert.rejects(() => loop.runUntilComplete(async () => 1), /closed/);
});

test("stop() before runForever makes it run one iteration and return", async () => {
  const loop = newEventLoop();
  const out: string[] = [];
  loop.callSoon(() => out.push("ran"));
  loop.stop();
  await loop.runForever();
  assert.deepEqual(out, ["ran"]);
  loop.close();
});

test("a running loop refuses to run twice, to close, and a second loop refuses to run", async () => {
  const loop = newEventLoop();
  const other = newEventLoop();
  await loop.runUntilComplete(async () => {
    assert.throws(() => loop.close(), /Cannot close a running event loop/);
    assert.throws(() => void loop.runForever(), /already running/);
    assert.throws(() => void other.runForever(), /another loop is running/);
  });
  loop.close();
  other.close();
});

test("exception handler: custom handler gets context; default writes to stderr; handler errors are contained", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    assert.equal(loop.getExceptionHandler(), null);
    const seen: ExceptionContext[] = [];
    const handler = (_l: unknown, ctx: ExceptionContext): void => void seen.push(ctx);
    loop.setExceptionHandler(handler);
    assert.equal(loop.getExceptionHandler(), handler);
    const boom = new Error("in callback");
    loop.callSoon(function failing() {
      throw boom;
    });
    await sleep(0);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.exception, boom);
    assert.match(seen[0]!.message, /Exception in callback failing/);
    assert.ok(seen[0]!.handle instanceof Handle);

    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    });
    try {
      loop.setExceptionHandler(() => {
        throw new Error("handler broke");
      });
      loop.callExceptionHandler({ message: "original problem" });
      loop.setExceptionHandler(null);
      loop.callExceptionHandler({ message: "plain report", exception: boom, extra: 1 });
    } finally {
      process.stderr.write = original;
    }
    const text = written.join("");
    assert.match(text, /Unhandled error in exception handler/);
    assert.match(text, /handler broke/);
    assert.match(text, /plain report/);
    assert.match(text, /extra: 1/);
    assert.match(text, /Error: in callback/);
    assert.throws(() => loop.setExceptionHandler(5 as never), TypeError);
  });
});

test("bad arguments get TypeError/RangeError that say what to pass", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    assert.throws(() => loop.callLater(-1, () => undefined), (e: unknown) => e instanceof RangeError && /callAt/.test(e.message));
    assert.throws(() => loop.callLater(Number.NaN, () => undefined), RangeError);
    assert.throws(() => loop.callLater("1" as never, () => undefined), TypeError);
    assert.throws(() => loop.callSoon(async () => undefined), /cannot schedule an async function.*createTask/);
    assert.throws(() => loop.callSoon(null as never), TypeError);
    assert.throws(() => loop.callAt(Number.NaN, () => undefined), TypeError);
    assert.throws(() => sleep(-0.5), RangeError);
    assert.throws(() => sleep("1" as never), TypeError);
    assert.throws(() => loop.setTaskFactory(3 as never), TypeError);
    assert.throws(() => setEventLoop({} as never), TypeError);
  });
});

test("set/getEventLoop outside a running loop", () => {
  const loop = newEventLoop();
  setEventLoop(loop);
  assert.equal(getEventLoop(), loop);
  setEventLoop(null);
  assert.throws(() => getEventLoop(), /no current event loop/);
  loop.close();
});

test("debug mode reports a callback that blocks the loop, with its duration", async () => {
  await run(
    async () => {
      const loop = getRunningLoop();
      assert.equal(loop.getDebug(), true);
      loop.slowCallbackDuration = 0.02;
      const seen: ExceptionContext[] = [];
      loop.setExceptionHandler((_l, ctx) => seen.push(ctx));
      loop.callSoon(function blocker() {
        const end = performance.now() + 40;
        while (performance.now() < end);
      });
      await sleep(0.001);
      const report = seen.find((c) => /Executing <Handle blocker\(\)> took \d\.\d{3} seconds/.test(c.message));
      assert.ok(report, `no slow-callback report in ${JSON.stringify(seen.map((c) => c.message))}`);
    },
    { debug: true },
  );
});

test("debug mode reports task code that blocks the loop, naming the task", async () => {
  await run(
    async () => {
      const loop = getRunningLoop();
      loop.slowCallbackDuration = 0.02;
      const seen: ExceptionContext[] = [];
      loop.setExceptionHandler((_l, ctx) => seen.push(ctx));
      await createTask(
        async () => {
          await sleep(0);
          const end = performance.now() + 40;
          while (performance.now() < end);
        },
        { name: "hog" },
      );
      await sleep(0.001);
      const report = seen.find((c) => /Executing <Task .*name=hog/.test(c.message));
      assert.ok(report, `no report naming the task in ${JSON.stringify(seen.map((c) => c.message))}`);
      assert.match(report.message, /created at/);
    },
    { debug: true },
  );
});

test("the loop and handles print their state", async () => {
  const loop = newEventLoop();
  assert.ok(loop instanceof EventLoop);
  assert.match(inspect(loop), /<EventLoop idle ready=0 timers=0 debug=(true|false)>/);
  const h = loop.callSoon(function named() {});
  assert.equal(String(h), "<Handle named()>");
  loop.close();
  assert.match(String(loop), /closed/);
});
