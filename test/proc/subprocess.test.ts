import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import {
  CancelledError,
  DEVNULL,
  LimitOverrunError,
  PIPE,
  Process,
  STDOUT,
  createSubprocessExec,
  createSubprocessShell,
  createTask,
  gather,
  getRunningLoop,
  run,
  sleep,
} from "../../src/index.ts";
import { iterations, rejection } from "../helpers/index.ts";

const node = process.execPath;

void test("createSubprocessExec runs a program; its stdout is a StreamReader", async () => {
  await run(async () => {
    const proc = await createSubprocessExec("echo", ["hello", "world"], { stdout: PIPE });
    assert.ok(proc instanceof Process);
    assert.ok(proc.pid > 0);
    assert.equal(proc.stdin, null);
    assert.equal(proc.stderr, null);
    assert.equal((await proc.stdout!.readLine()).toString(), "hello world\n");
    assert.equal(await proc.wait(), 0);
    assert.equal(proc.returncode, 0);
  });
});

void test("communicate(input) writes stdin, reads stdout and stderr, and waits for the exit", async () => {
  await run(async () => {
    const proc = await createSubprocessExec(node, ["-e", "process.stdin.pipe(process.stdout); process.stderr.write('err'); process.exitCode = 3"], {
      stdin: PIPE,
      stdout: PIPE,
      stderr: PIPE,
    });
    const [out, err] = await proc.communicate(Buffer.from("ping"));
    assert.equal(out!.toString(), "ping");
    assert.equal(err!.toString(), "err");
    assert.equal(proc.returncode, 3);
    const quiet = await createSubprocessExec("true", [], { stdout: DEVNULL });
    assert.deepEqual(await quiet.communicate(), [null, null]);
    await assert.rejects(quiet.communicate(Buffer.from("x")), /stdin: PIPE/);
  });
});

void test("communicate() never deadlocks: MBs out on stdout and stderr while 1 MB goes in", async () => {
  await run(async () => {
    // The child fills both output pipes before it reads any input, then echoes what it read.
    const script = `
      process.stdout.write(Buffer.alloc(2 << 20, 111));
      process.stderr.write(Buffer.alloc(2 << 20, 101));
      const chunks = [];
      process.stdin.on("data", (c) => chunks.push(c));
      process.stdin.on("end", () => {
        const n = Buffer.concat(chunks).length;
        process.stderr.write(Buffer.alloc(1 << 20, 101));
        process.stdout.write("read " + n);
      });`;
    const proc = await createSubprocessExec(node, ["-e", script], { stdin: PIPE, stdout: PIPE, stderr: PIPE });
    const [out, err] = await proc.communicate(Buffer.alloc(1 << 20, 1));
    assert.equal(out!.length, (2 << 20) + `read ${1 << 20}`.length);
    assert.ok(out!.toString("latin1").endsWith(`read ${1 << 20}`));
    assert.equal(err!.length, 3 << 20);
    assert.equal(proc.returncode, 0);
  });
});

void test("stderr: STDOUT merges stderr into the stdout pipe, in the child's write order", async () => {
  await run(async () => {
    const script = "echo a; echo b >&2; echo c; echo d >&2";
    const exec = await createSubprocessExec("sh", ["-c", script], { stdout: PIPE, stderr: STDOUT });
    assert.equal(exec.stderr, null);
    const [execOut] = await exec.communicate();
    assert.equal(execOut!.toString(), "a\nb\nc\nd\n");
    const shell = await createSubprocessShell(`${script}; exit 4`, { stdout: PIPE, stderr: STDOUT });
    const [shellOut] = await shell.communicate();
    assert.equal(shellOut!.toString(), "a\nb\nc\nd\n");
    assert.equal(shell.returncode, 4);
    // Where stdout goes, stderr follows: /dev/null here.
    const hushed = await createSubprocessExec("sh", ["-c", "echo gone >&2"], { stdout: DEVNULL, stderr: STDOUT });
    assert.equal(await hushed.wait(), 0);
    await assert.rejects(createSubprocessExec("true", [], { stdout: STDOUT }), /STDOUT is only valid for stderr/);
  });
});

void test("returncode is -N when the child dies of signal N; signals by name or number", async () => {
  await run(async () => {
    const cases: [(p: Process) => void, number][] = [
      [(p) => p.kill(), -9],
      [(p) => p.terminate(), -15],
      [(p) => p.sendSignal("SIGINT"), -2],
      [(p) => p.sendSignal(1), -1],
    ];
    const codes = await gather(
      ...cases.map(async ([send]) => {
        const proc = await createSubprocessExec("sleep", ["30"]);
        assert.equal(proc.returncode, null);
        send(proc);
        return await proc.wait();
      }),
    );
    assert.deepEqual(
      codes,
      cases.map(([, code]) => code),
    );
  });
});

void test("invalid signals get clear errors; signalling an exited child does nothing", async () => {
  await run(async () => {
    const proc = await createSubprocessExec("sleep", ["30"]);
    assert.throws(() => proc.sendSignal("SIGFOO"), (e: Error) => e instanceof TypeError && /unknown signal "SIGFOO"/.test(e.message));
    assert.throws(() => proc.sendSignal("term"), /did you mean "SIGTERM"/);
    assert.throws(() => proc.sendSignal(9999), RangeError);
    assert.throws(() => proc.sendSignal(null as never), TypeError);
    proc.kill();
    assert.equal(await proc.wait(), -9);
    proc.terminate();
    assert.equal(proc.returncode, -9);
  });
});

void test("a program that does not exist gets an error naming it; so does a missing cwd", async () => {
  await run(async () => {
    for (const options of [{}, { stdout: PIPE, stderr: STDOUT }]) {
      const error = (await rejection(createSubprocessExec("no-such-program-aiots", ["x"], options))) as NodeJS.ErrnoException;
      assert.match(error.message, /"no-such-program-aiots"/);
      assert.match(error.message, /PATH/);
      assert.equal(error.code, "ENOENT");
    }
    const absolute = (await rejection(createSubprocessExec("/nonexistent/prog", []))) as Error;
    assert.match(absolute.message, /"\/nonexistent\/prog"/);
    await assert.rejects(createSubprocessExec("true", [], { cwd: "/nonexistent-dir-aiots" }), /working directory "\/nonexistent-dir-aiots"/);
    await assert.rejects(createSubprocessExec("true", "-l" as never), /array of strings/);
  });
});

void test("cwd, env and an inherited file descriptor are passed to the child", async () => {
  await run(async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "aiots-sub-")));
    try {
      const pwd = await createSubprocessExec("pwd", [], { cwd: dir, stdout: PIPE });
      assert.equal((await pwd.communicate())[0]!.toString().trim(), dir);
      const env = await createSubprocessShell('echo "$AIOTS_X"', { env: { AIOTS_X: "from-env", PATH: process.env["PATH"] }, stdout: PIPE });
      assert.equal((await env.communicate())[0]!.toString(), "from-env\n");
      const file = join(dir, "out.txt");
      const fd = openSync(file, "w");
      try {
        const toFile = await createSubprocessExec("echo", ["into the file"], { stdout: fd });
        assert.equal(toFile.stdout, null);
        await toFile.wait();
      } finally {
        closeSync(fd);
      }
      assert.equal(readFileSync(file, "utf8"), "into the file\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

void test("the limit option sets the readers' limit; stdout iterates by line", async () => {
  await run(async () => {
    const long = await createSubprocessExec(node, ["-e", "console.log('x'.repeat(200))"], { stdout: PIPE, limit: 64 });
    await assert.rejects(long.stdout!.readLine(), LimitOverrunError);
    await long.wait();
    const lines = await createSubprocessShell("printf 'a\\nb\\nc\\n'", { stdout: PIPE });
    const seen: string[] = [];
    for await (const line of lines.stdout!) seen.push(line.toString());
    assert.deepEqual(seen, ["a\n", "b\n", "c\n"]);
    assert.equal(await lines.wait(), 0);
  });
});

void test("cancelling wait() leaves the child running, and a later wait() reaps it", async () => {
  await run(async () => {
    const proc = await createSubprocessExec("cat", [], { stdin: PIPE, stdout: DEVNULL });
    const waiting = createTask(() => proc.wait());
    await iterations(3);
    waiting.cancel();
    assert.ok((await rejection(waiting)) instanceof CancelledError);
    await sleep(0.05);
    assert.equal(proc.returncode, null, "the child still runs");
    proc.stdin!.close();
    assert.equal(await proc.wait(), 0);
  });
});

void test("cancelling communicate() leaves the child running and reapable", async () => {
  await run(async () => {
    const proc = await createSubprocessExec("sleep", ["30"], { stdout: PIPE });
    const talking = createTask(() => proc.communicate());
    await iterations(5);
    talking.cancel();
    assert.ok((await rejection(talking)) instanceof CancelledError);
    assert.equal(proc.returncode, null);
    proc.terminate();
    assert.equal(await proc.wait(), -15);
  });
});

void test("disposing a Process kills and reaps a child that is still running", async () => {
  await run(async () => {
    let kept: Process;
    {
      await using proc = await createSubprocessExec("sleep", ["30"]);
      kept = proc;
    }
    assert.equal(kept.returncode, -9);
    let finished: Process;
    {
      await using done = await createSubprocessExec("true", []);
      await done.wait();
      finished = done;
    }
    assert.equal(finished.returncode, 0, "an exited child keeps its own status");
  });
});

void test("stdin.drain() waits while the child does not read, and the writer reports the child's end", async () => {
  await run(async () => {
    const proc = await createSubprocessExec(node, ["-e", "process.stdin.pause(); setTimeout(() => {}, 30000)"], { stdin: PIPE });
    proc.stdin!.write(Buffer.alloc(4 << 20));
    const draining = createTask(() => proc.stdin!.drain());
    await sleep(0.05);
    assert.equal(draining.done(), false, "drain() waits: the pipe is full");
    proc.kill();
    await proc.wait();
    await iterations(2);
    assert.equal(draining.done(), true, "the closed pipe ends the drain");
    // Writing on is an error now, as asyncio's "Connection lost".
    await assert.rejects(proc.stdin!.drain(), /Connection lost/);
  });
});

void test("shell commands run through /bin/sh; Process has a readable repr", async () => {
  await run(async () => {
    const proc = await createSubprocessShell("echo hello | tr a-z A-Z", { stdout: PIPE });
    assert.match(inspect(proc), new RegExp(`^<Process ${proc.pid} running>$`));
    assert.equal((await proc.communicate())[0]!.toString(), "HELLO\n");
    assert.equal(String(proc), `<Process ${proc.pid} returncode=0>`);
    await assert.rejects(createSubprocessShell(""), /non-empty string/);
  });
});

void test("closing the loop kills a child still running (reported in debug mode)", async () => {
  let proc: Process | null = null;
  const reports: string[] = [];
  await run(
    async () => {
      getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context.message));
      proc = await createSubprocessExec("sleep", ["30"], { stdout: PIPE });
    },
    { debug: true },
  );
  const child = proc as Process | null;
  assert.ok(child !== null);
  for (let i = 0; i < 500 && child.returncode === null; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(child.returncode, -9);
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /<ChildProcessTransport pid=\d+ running.*> was still running when its loop closed/);
});

void test("communicate(input) to a child that stops reading early ignores the broken pipe, as asyncio", async () => {
  await run(async () => {
    const head = await createSubprocessExec("head", ["-c", "10"], { stdin: PIPE, stdout: PIPE });
    const [out] = await head.communicate(Buffer.alloc(4 << 20, 120));
    assert.equal(out!.toString(), "x".repeat(10));
    assert.equal(head.returncode, 0);
    const deaf = await createSubprocessExec("true", [], { stdin: PIPE });
    assert.deepEqual(await deaf.communicate(Buffer.alloc(1 << 20)), [null, null]);
    assert.equal(deaf.returncode, 0);
  });
});

void test("cancelling the task that creates a subprocess kills the child it started", async () => {
  await run(async () => {
    const children = (): number => process.getActiveResourcesInfo().filter((r) => r === "ProcessWrap").length;
    // Children of earlier tests may still be on their way out.
    for (let i = 0; i < 300 && children() > 0; i++) await sleep(0.01);
    const before = children();
    const creating = createTask(() => createSubprocessExec("sleep", ["30"]));
    await iterations(1);
    assert.equal(children(), before + 1, "the child was started");
    creating.cancel();
    assert.ok((await rejection(creating)) instanceof CancelledError);
    for (let i = 0; i < 300 && children() > before; i++) await sleep(0.01);
    assert.equal(children(), before, "the child was killed and reaped");
  });
});
