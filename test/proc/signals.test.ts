import { test } from "node:test";
import assert from "node:assert/strict";
import { constants } from "node:os";
import { PIPE, createSubprocessExec, currentTask, getRunningLoop, newEventLoop, run, type Process } from "../../src/index.ts";

const sigint = new URL("../fixtures/sigint-main.ts", import.meta.url).pathname;

void test("addSignalHandler runs the callback with its arguments, as a loop callback", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const got = loop.createFuture<unknown[]>();
    loop.addSignalHandler(
      "SIGURG",
      (...args: unknown[]) => {
        got.setResult([...args, currentTask()]);
      },
      "a",
      1,
    );
    try {
      process.kill(process.pid, "SIGURG");
      assert.deepEqual(await got, ["a", 1, null]);
    } finally {
      assert.equal(loop.removeSignalHandler("SIGURG"), true);
    }
  });
});

void test("a signal number works too; a new handler replaces the loop's previous one", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const before = process.listenerCount("SIGURG");
    const calls: string[] = [];
    const second = loop.createFuture<void>();
    loop.addSignalHandler("SIGURG", () => calls.push("first"));
    loop.addSignalHandler(constants.signals.SIGURG, () => {
      calls.push("second");
      second.setResult(undefined);
    });
    assert.equal(process.listenerCount("SIGURG"), before + 1);
    try {
      process.kill(process.pid, "SIGURG");
      await second;
      assert.deepEqual(calls, ["second"]);
    } finally {
      assert.equal(loop.removeSignalHandler(constants.signals.SIGURG), true);
    }
    assert.equal(loop.removeSignalHandler("SIGURG"), false);
    assert.equal(process.listenerCount("SIGURG"), before);
  });
});

void test("invalid signals, SIGKILL and SIGSTOP, async callbacks and closed loops get clear errors", async () => {
  await run(() => {
    const loop = getRunningLoop();
    const listeners = process.listenerCount("SIGURG");
    const cb = (): void => {};
    assert.throws(() => loop.addSignalHandler("SIGKILL", cb), (e: Error) => e instanceof RangeError && /SIGKILL cannot be caught/.test(e.message));
    assert.throws(() => loop.addSignalHandler(constants.signals.SIGSTOP, cb), /SIGSTOP cannot be caught/);
    assert.throws(() => loop.addSignalHandler("SIGFOO", cb), (e: Error) => e instanceof TypeError && /unknown signal "SIGFOO"/.test(e.message));
    assert.throws(() => loop.addSignalHandler("term", cb), /did you mean "SIGTERM"/);
    assert.throws(() => loop.addSignalHandler(0, cb), RangeError);
    assert.throws(() => loop.addSignalHandler(1.5, cb), TypeError);
    assert.throws(() => loop.addSignalHandler("SIGSEGV", cb), /reserved by Node/);
    assert.throws(() => loop.addSignalHandler("SIGURG", async () => {}), /plain functions/);
    assert.throws(() => loop.removeSignalHandler("SIGKILL"), RangeError);
    assert.equal(process.listenerCount("SIGURG"), listeners, "a refused handler installs nothing");
  });
  const closed = newEventLoop();
  closed.close();
  assert.throws(() => closed.addSignalHandler("SIGURG", () => {}), /closed/);
});

/** Reads the child's stdout lines until `line` appears; returns every line read. */
async function readUntil(proc: Process, line: string): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    const next = (await proc.stdout!.readLine()).toString();
    if (next === "") assert.fail(`the child ended before printing "${line}"; it printed ${JSON.stringify(seen)}`);
    seen.push(next.trimEnd());
    if (next.trimEnd() === line) return seen;
  }
}

/** Starts test/fixtures/sigint-main.ts in `mode` and reads its output up to `line`. */
async function fixture(mode: string, line: string): Promise<Process> {
  const child = await createSubprocessExec(process.execPath, [sigint, mode], { stdout: PIPE });
  await readUntil(child, line);
  return child;
}

void test("run(): the first SIGINT cancels the main task, then Node's own SIGINT handling is restored", async () => {
  await run(async () => {
    await using child = await fixture("cancel", "ready");
    child.sendSignal("SIGINT");
    const lines = await readUntil(child, "after");
    assert.deepEqual(lines, ["main finally", "run threw KeyboardInterrupt", "listeners 0", "after"]);
    // run() has returned: SIGINT is Node's again, and ends the process.
    child.sendSignal("SIGINT");
    assert.equal(await child.wait(), -constants.signals.SIGINT);
  });
});

void test("run(): a second SIGINT ends the process when main ignores the first", async () => {
  await run(async () => {
    await using child = await fixture("twice", "ready");
    child.sendSignal("SIGINT");
    await readUntil(child, "first SIGINT cancelled main");
    child.sendSignal("SIGINT");
    assert.equal(await child.wait(), -constants.signals.SIGINT);
  });
});

void test("a handler left installed by a closed loop does not swallow its signal", async () => {
  await run(async () => {
    await using child = await fixture("closed-loop", "after");
    child.sendSignal("SIGTERM");
    assert.equal(await child.wait(), -constants.signals.SIGTERM);
    assert.equal((await child.stdout!.read()).toString(), "");
  });
});
