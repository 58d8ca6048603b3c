/** run() and SIGINT, with real child processes: asyncio's replacement rule and exit status 130. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PIPE, createSubprocessExec, run, type Process } from "../../src/index.ts";

const program = new URL("../fixtures/run-sigint-main.ts", import.meta.url).pathname;
const BOUNDED = { timeout: 60_000 };

async function readUntil(proc: Process, line: string): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    const next = (await proc.stdout!.readLine()).toString();
    if (next === "") assert.fail(`the child ended before printing "${line}"; it printed ${JSON.stringify(seen)}`);
    seen.push(next.trimEnd());
    if (next.trimEnd() === line) return seen;
  }
}

async function start(mode: string): Promise<Process> {
  const child = await createSubprocessExec(process.execPath, [program, mode], { stdout: PIPE, stderr: PIPE });
  await readUntil(child, "ready");
  return child;
}

void test("an uncaught KeyboardInterrupt from run() exits the process with status 130", BOUNDED, async () => {
  await run(async () => {
    await using child = await start("uncaught");
    child.sendSignal("SIGINT");
    assert.equal(await child.wait(), 130);
    const stderr = (await child.stderr!.read()).toString();
    assert.match(stderr, /KeyboardInterrupt: interrupted by SIGINT/);
  });
});

void test("loop.addSignalHandler('SIGINT', h) inside run() replaces run()'s Ctrl-C handling", BOUNDED, async () => {
  await run(async () => {
    await using child = await start("handler");
    child.sendSignal("SIGINT");
    await readUntil(child, "handler 1");
    child.sendSignal("SIGINT"); // a second one would end the process under run()'s own handling
    const rest = await readUntil(child, "clean exit");
    assert.deepEqual(rest, ["handler 2", "clean exit"]);
    assert.equal(await child.wait(), 0);
    assert.doesNotMatch((await child.stderr!.read()).toString(), /KeyboardInterrupt/);
  });
});

void test("once the handler is removed, run()'s own Ctrl-C handling is back", BOUNDED, async () => {
  await run(async () => {
    await using child = await start("removed");
    child.sendSignal("SIGINT");
    assert.deepEqual(await readUntil(child, "run threw KeyboardInterrupt"), ["run threw KeyboardInterrupt"]);
    assert.equal(await child.wait(), 0);
  });
});
