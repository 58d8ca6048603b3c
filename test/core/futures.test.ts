import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { CancelledError, Future, InvalidStateError, getRunningLoop, isFuture, run, sleep } from "../../src/index.ts";
import { rejection } from "../helpers/index.ts";

test("a future settles once with a result; awaiters get it", async () => {
  await run(async () => {
    const fut = getRunningLoop().createFuture<string>();
    assert.equal(fut.done(), false);
    assert.match(inspect(fut), /<Future pending>/);
    getRunningLoop().callLater(0.001, () => fut.setResult("hi"));
    const [a, b] = await Promise.all([fut, fut]);
    assert.equal(a, "hi");
    assert.equal(b, "hi");
    assert.equal(fut.result(), "hi");
    assert.equal(fut.exception(), null);
    assert.throws(() => fut.setResult("again"), InvalidStateError);
    assert.throws(() => fut.setException(new Error("late")), InvalidStateError);
    assert.equal(fut.cancel(), false);
    assert.match(String(fut), /<Future finished result='hi'>/);
  });
});

test("a future with an exception rejects its awaiters and throws from result()", async () => {
  await run(async () => {
    const fut = new Future<number>();
    const boom = new Error("boom");
    fut.setException(boom);
    assert.equal(await rejection(fut), boom);
    assert.throws(() => fut.result(), /boom/);
    assert.equal(fut.exception(), boom);
    assert.throws(() => fut.setException(undefined), InvalidStateError);
    const other = new Future<number>();
    assert.throws(() => other.setException(undefined), TypeError);
  });
});

test("cancel() settles as cancelled; result() and exception() throw CancelledError with the message", async () => {
  await run(async () => {
    const fut = new Future<number>();
    assert.equal(fut.cancel("why"), true);
    assert.equal(fut.cancelled(), true);
    assert.equal(fut.cancel(), false);
    assert.throws(() => fut.result(), (e: unknown) => e instanceof CancelledError && e.message === "why");
    assert.throws(() => fut.exception(), CancelledError);
    assert.ok((await rejection(fut)) instanceof CancelledError);
  });
});

test("result() and exception() on a pending future are InvalidStateErrors", async () => {
  await run(async () => {
    const fut = new Future();
    assert.throws(() => fut.result(), InvalidStateError);
    assert.throws(() => fut.exception(), InvalidStateError);
  });
});

test("done callbacks are scheduled with callSoon, in order, and removable", async () => {
  await run(async () => {
    const fut = new Future<number>();
    const calls: string[] = [];
    const a = (f: Future<number>): void => void calls.push(`a${f.result()}`);
    const b = (): void => void calls.push("b");
    fut.addDoneCallback(a);
    fut.addDoneCallback(b);
    fut.addDoneCallback(b);
    assert.equal(fut.removeDoneCallback(b), 2);
    fut.setResult(1);
    assert.deepEqual(calls, [], "not called synchronously");
    await sleep(0);
    assert.deepEqual(calls, ["a1"]);
    fut.addDoneCallback(b); // already done: scheduled at once
    await sleep(0);
    assert.deepEqual(calls, ["a1", "b"]);
    assert.throws(() => fut.addDoneCallback(null as never), TypeError);
  });
});

test("an error thrown by a done callback goes to the exception handler, not up the stack", async () => {
  await run(async () => {
    const seen: unknown[] = [];
    getRunningLoop().setExceptionHandler((_l, ctx) => seen.push(ctx.exception));
    const fut = new Future<number>();
    const boom = new Error("callback failed");
    fut.addDoneCallback(() => {
      throw boom;
    });
    fut.setResult(1);
    await sleep(0);
    assert.deepEqual(seen, [boom]);
  });
});

test("futures work with promise combinators and then/catch/finally chains", async () => {
  await run(async () => {
    const fut = new Future<number>();
    fut.setResult(2);
    assert.equal(await fut.then((x) => x * 10), 20);
    const failed = new Future<number>();
    failed.setException(new Error("x"));
    assert.equal(await failed.catch(() => "handled"), "handled");
    let ran = false;
    assert.equal(await fut.finally(() => (ran = true)), 2);
    assert.equal(ran, true);
    assert.deepEqual(await Promise.all([fut, Promise.resolve(3)]), [2, 3]);
  });
});

test("isFuture tells futures and tasks from promises", async () => {
  await run(async () => {
    assert.equal(isFuture(new Future()), true);
    assert.equal(isFuture(Promise.resolve()), false);
    assert.equal(isFuture(null), false);
  });
});

test("new Future() outside a loop needs an explicit loop", () => {
  assert.throws(() => new Future(), /no running event loop/);
});
