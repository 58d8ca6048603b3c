/**
 * Executors beyond the happy path: a cancelled job that never returns, shutdown timeouts, run() and
 * `await using` with a stuck worker, Buffers across threads, and a job's output before its result.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CancelledError, ThreadPoolExecutor, createTask, run, sleep, timeout, toThread, TimeoutError } from "../../src/index.ts";
import { rejection } from "../helpers/index.ts";

/** Blocks its worker until `s[0]` changes, which nobody does: a job that never returns. */
const stuck = (s: Int32Array): void => {
  Atomics.store(s, 1, 1);
  Atomics.wait(s, 0, 0);
};

async function eventually(check: () => boolean, what: string, limit = 1000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (check()) return;
    await sleep(0.01);
  }
  assert.fail(`timed out waiting for ${what}`);
}

void test("a cancelled job that never returns: its worker ends after the grace period and the pool replaces it", async () => {
  await run(async () => {
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1, cancelGracePeriod: 0.2 });
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const task = createTask(async () => await pool.submit(stuck, shared));
    await eventually(() => Atomics.load(shared, 1) === 1, "the job to start");
    const next = pool.submit(() => "next"); // queued behind the stuck job
    task.cancel();
    assert.ok((await rejection(task)) instanceof CancelledError);
    const started = performance.now();
    assert.equal(await next, "next");
    assert.ok(performance.now() - started >= 150, "the worker had its grace period");
    assert.equal(pool.workerCount, 1);
  });
});

void test("cancelGracePeriod: null lets a cancelled job run on; a bad value is refused", async () => {
  await run(async () => {
    assert.throws(() => new ThreadPoolExecutor({ cancelGracePeriod: -1 }), /cancelGracePeriod must be a number of seconds >= 0 or null/);
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const job = { fn: (s: Int32Array) => {
      Atomics.store(s, 1, 1);
      Atomics.wait(s, 0, 0, 2000);
      Atomics.store(s, 1, 2);
    }, cancelGracePeriod: null };
    const fut = pool.submit(job, shared);
    await eventually(() => Atomics.load(shared, 1) === 1, "the job to start");
    fut.cancel();
    await sleep(0.1);
    assert.equal(pool.workerCount, 1);
    Atomics.store(shared, 0, 1);
    Atomics.notify(shared, 0);
    await eventually(() => Atomics.load(shared, 1) === 2, "the job to finish in the background");
  });
});

void test("shutdown({ timeout }) terminates the workers still busy, fails their jobs and cancels the queued ones", async () => {
  await run(async () => {
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const running = pool.submit(stuck, shared);
    const queued = pool.submit(() => 1);
    await eventually(() => Atomics.load(shared, 1) === 1, "the job to start");
    const started = performance.now();
    await pool.shutdown(true, { timeout: 0.2 });
    assert.ok(performance.now() - started < 10_000);
    assert.equal(pool.workerCount, 0);
    await assert.rejects(running, /shut down with a timeout of 0.2s while this job still ran/);
    assert.equal(queued.cancelled(), true);
    assert.throws(() => pool.shutdown(true, { timeout: -1 }), TypeError);
  });
});

void test("run() and await using return when a cancelled job never does (default grace period)", async () => {
  const started = performance.now();
  await run(async () => {
    const shared = new Int32Array(new SharedArrayBuffer(8));
    // Left running when main returns: run() cancels the task, which cancels the job.
    createTask(async () => await toThread(stuck, shared));
    await eventually(() => Atomics.load(shared, 1) === 1, "the job to start");
  });
  await run(async () => {
    const shared = new Int32Array(new SharedArrayBuffer(8));
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    assert.ok((await rejection(timeout(0.1, async () => await pool.submit(stuck, shared)))) instanceof TimeoutError);
  });
  // Two default grace periods (2 s each), with a wide margin for a loaded machine.
  assert.ok(performance.now() - started < 30_000, `took ${performance.now() - started} ms`);
});

void test("bytes cross threads as Buffers both ways; plain Uint8Arrays stay plain", async () => {
  await run(async () => {
    const bytes = await toThread(() => Buffer.from("dead", "hex"));
    assert.ok(Buffer.isBuffer(bytes));
    assert.equal(bytes.toString("hex"), "dead");
    const nested = await toThread(() => ({ parts: [Buffer.from("a"), new Uint8Array([1])], id: Buffer.from("b") }));
    assert.ok(Buffer.isBuffer(nested.parts[0]) && Buffer.isBuffer(nested.id));
    assert.equal(Buffer.isBuffer(nested.parts[1]), false);
    assert.ok(nested.parts[1] instanceof Uint8Array);
    const seen = await toThread((b: Buffer, u: Uint8Array) => [Buffer.isBuffer(b) ? b.toString("hex") : "not a Buffer", Buffer.isBuffer(u)], Buffer.from([0xbe, 0xef]), new Uint8Array([1]));
    assert.deepEqual(seen, ["beef", false]);
  });
});

void test("what a job prints comes before the caller's output after the await (CPython's to_thread example)", async () => {
  const script = fileURLToPath(new URL("../fixtures/to-thread-example.ts", import.meta.url));
  const child = spawn(process.execPath, [script, "rounds"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, err);
  const lines = out.split("\n");
  assert.deepEqual(lines.slice(0, 4), ["started main", "start blocking_io", "blocking_io complete", "finished main"]);
  assert.equal(err, "blocking_io stderr\nmain stderr\n");
  const expected: string[] = [];
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 50; i++) expected.push(`job ${round} line ${i}`);
    expected.push(`after job ${round}`);
  }
  assert.deepEqual(lines.slice(4, -1), expected);
});
