/** Runs the subprocess, executor and signal examples in `examples/` and checks what they print. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PIPE, createSubprocessExec, openConnection, run } from "../../src/index.ts";

function example(name: string): string {
  return new URL(`../../examples/${name}`, import.meta.url).pathname;
}

/** Runs an example to completion; returns its exit status, stdout and stderr. */
async function runExample(name: string, args: string[] = []): Promise<{ code: number; out: string; err: string }> {
  const proc = await createSubprocessExec(process.execPath, [example(name), ...args], { stdout: PIPE, stderr: PIPE });
  const [out, err] = await proc.communicate();
  return { code: proc.returncode!, out: out!.toString(), err: err!.toString() };
}

void test("examples/subprocess-shell.ts: a shell command's status and output, then two in parallel", async () => {
  await run(async () => {
    const { code, out, err } = await runExample("subprocess-shell.ts");
    assert.equal(code, 0, err);
    assert.equal(out.match(/\[ls \/zzz\] exited with 2/g)?.length, 2);
    assert.match(out, /\[stderr\]\nls: .*\/zzz/);
    assert.match(out, /\[sleep 0\.2; echo "hello"\] exited with 0\n\[stdout\]\nhello\n/);
  });
});

void test("examples/subprocess-get-date.ts and subprocess-protocol.ts read a date from a child", async () => {
  await run(async () => {
    for (const name of ["subprocess-get-date.ts", "subprocess-protocol.ts"]) {
      const { code, out, err } = await runExample(name);
      assert.equal(code, 0, err);
      assert.match(out, /^Current date: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n$/, name);
    }
  });
});

void test("examples/to-thread.ts: blocking and CPU-bound work in worker threads", async () => {
  await run(async () => {
    const { code, out, err } = await runExample("to-thread.ts");
    assert.equal(code, 0, err);
    assert.match(out, /^blocking_io slept 0\.5s; both done after/m);
    assert.match(out, /^default thread pool 333332833333127550$/m);
    assert.match(out, /^custom thread pool 333332833333127550$/m);
  });
});

void test("examples/graceful-shutdown.ts: on SIGTERM the request in flight completes, then the server exits", async () => {
  await run(async () => {
    const server = await createSubprocessExec(process.execPath, [example("graceful-shutdown.ts"), "0"], { stdout: PIPE, stderr: PIPE });
    await using _ = server;
    const banner = (await server.stdout!.readLine()).toString();
    const port = Number(/serving on port (\d+)/.exec(banner)?.[1]);
    assert.ok(port > 0, `unexpected banner ${JSON.stringify(banner)}`);
    const [reader, writer] = await openConnection("127.0.0.1", port);
    writer.write(Buffer.from("hello\n"));
    await writer.drain();
    // The server has the request when it says so; SIGTERM arrives while it is working on it.
    assert.equal((await server.stdout!.readLine()).toString(), "request: hello\n");
    server.sendSignal("SIGTERM");
    assert.equal((await reader.readLine()).toString(), "HELLO\n", "the request in flight got its answer");
    writer.close();
    const [rest, err] = await server.communicate();
    assert.equal(server.returncode, 0, err!.toString());
    assert.equal(rest!.toString(), "shutting down: no new connections\nshutdown complete\n");
    // No longer listening.
    await assert.rejects(openConnection("127.0.0.1", port), /ECONNREFUSED|refused/i);
  });
});
