// RedisQueue against a real redis-server: asyncio.Queue's API, shared state between instances,
// cancellation, and bad input.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { run, createTask, sleep, timeout, TimeoutError, CancelledError, QueueEmpty, QueueFull, QueueShutDown, getRunningLoop } from "../../src/index.ts";
import { RedisQueue } from "../../src/redis.ts";
import { RedisServer, freePort } from "../helpers/redis.ts";
import { rejection } from "../helpers/index.ts";

let server: RedisServer;
let names = 0;
const fresh = (): string => `q${process.pid}-${names++}`;

void describe("RedisQueue", () => {
  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await server.stop();
  });

  void test("put, get, qsize, empty, full, putNowait, getNowait, taskDone, join: asyncio.Queue's semantics", async () => {
    await run(async () => {
      await using q = new RedisQueue<{ n: number } | string | null>(fresh(), { url: server.url, maxsize: 2 });
      assert.equal(await q.empty(), true);
      assert.equal(await q.qsize(), 0);
      await q.put({ n: 1 });
      await q.putNowait("two");
      assert.equal(await q.qsize(), 2);
      assert.equal(await q.full(), true);
      assert.ok((await rejection(q.putNowait(null))) instanceof QueueFull);
      assert.deepEqual(await q.get(), { n: 1 });
      assert.equal(await q.getNowait(), "two");
      assert.ok((await rejection(q.getNowait())) instanceof QueueEmpty);
      assert.equal(await q.empty(), true);
      // join waits for both taskDone() calls.
      let joined = false;
      const joiner = createTask(async () => {
        await q.join();
        joined = true;
      });
      await sleep(0.2);
      assert.equal(joined, false);
      await q.taskDone();
      await sleep(0.2);
      assert.equal(joined, false);
      await q.taskDone();
      await timeout(5, () => joiner);
      assert.equal(joined, true);
      const error = await rejection(q.taskDone());
      assert.match((error as Error).message, /taskDone\(\) called more times than this instance took items/);
      assert.match(inspect(q), /^<RedisQueue "q\d+-\d+" group=aiots maxsize=2 url=redis:\/\/127\.0\.0\.1:\d+\/?>$/);
    });
  });

  void test("two instances share the items, the join count and the shutdown; FIFO order", async () => {
    await run(async () => {
      const name = fresh();
      await using producer = new RedisQueue<number>(name, { url: server.url });
      await using consumer = new RedisQueue<number>(name, { url: server.url });
      for (let i = 0; i < 20; i++) await producer.put(i);
      assert.equal(await consumer.qsize(), 20);
      const got: number[] = [];
      const joining = createTask(() => producer.join());
      const worker = createTask(async () => {
        for await (const n of consumer) {
          got.push(n);
          await consumer.taskDone();
        }
      });
      await timeout(10, () => joining);
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
      await producer.shutdown();
      await timeout(10, () => worker); // the consumer's loop ended on the shutdown it saw
      assert.ok((await rejection(consumer.put(1))) instanceof QueueShutDown);
      assert.ok((await rejection(producer.get())) instanceof QueueShutDown);
    });
  });

  void test("maxsize: put waits while the queue is full and goes on when another instance takes", async () => {
    await run(async () => {
      const name = fresh();
      await using a = new RedisQueue<number>(name, { url: server.url, maxsize: 1 });
      await using b = new RedisQueue<number>(name, { url: server.url, maxsize: 1 });
      await a.put(1);
      let second = false;
      const putter = createTask(async () => {
        await a.put(2);
        second = true;
      });
      await sleep(0.3);
      assert.equal(second, false, "put() returned while the queue was full");
      assert.equal(await b.get(), 1);
      await timeout(5, () => putter);
      assert.equal(second, true);
      assert.equal(await b.get(), 2);
      // A put cancelled while it waits for room puts nothing.
      await a.put(3);
      await assert.rejects(timeout(0.2, () => a.put(4)), TimeoutError);
      assert.equal(await b.get(), 3);
      assert.ok((await rejection(b.getNowait())) instanceof QueueEmpty);
    });
  });

  void test("shutdown(): getters drain what is left first; shutdown(true) drops it, fails waiting getters at once and counts it done", async () => {
    await run(async () => {
      const name = fresh();
      await using a = new RedisQueue<number>(name, { url: server.url });
      await using b = new RedisQueue<number>(name, { url: server.url });
      await a.put(1);
      await a.put(2);
      await a.shutdown();
      assert.equal(await b.get(), 1);
      assert.equal(await b.get(), 2);
      assert.ok((await rejection(b.get())) instanceof QueueShutDown);

      const name2 = fresh();
      await using c = new RedisQueue<number>(name2, { url: server.url });
      await using d = new RedisQueue<number>(name2, { url: server.url });
      const waiting = createTask(() => d.get());
      await sleep(0.2);
      const loop = getRunningLoop();
      await c.put(7);
      assert.equal(await timeout(5, () => waiting), 7);
      await c.put(8);
      await c.put(9);
      const start = loop.time();
      const blocked = createTask(async () => {
        await d.get(); // 8
        await d.get(); // 9
        return d.get(); // waits, then fails on the immediate shutdown
      });
      await sleep(0.3);
      await c.shutdown(true);
      assert.ok((await rejection(timeout(5, () => blocked))) instanceof QueueShutDown);
      assert.ok(loop.time() - start < 5);
      // 7, 8, 9 were taken and not acknowledged: join waits for them, not for dropped items.
      await d.taskDone();
      await d.taskDone();
      await d.taskDone();
      await timeout(5, () => c.join());
    });
  });

  void test("shutdown(true) drops the items nobody took and counts them done for join()", async () => {
    await run(async () => {
      const name = fresh();
      await using q = new RedisQueue<number>(name, { url: server.url });
      for (let i = 0; i < 5; i++) await q.put(i);
      await q.shutdown(true);
      assert.equal(await q.qsize(), 0);
      await timeout(5, () => q.join());
      assert.ok((await rejection(q.getNowait())) instanceof QueueShutDown);
    });
  });

  void test("a put waiting for room wakes soon after a blocking read took an item (not at the next poll)", async () => {
    await run(async () => {
      const name = fresh();
      await using a = new RedisQueue<number>(name, { url: server.url, maxsize: 1, visibilityTimeout: 600 });
      await using b = new RedisQueue<number>(name, { url: server.url, maxsize: 1, visibilityTimeout: 600 });
      const first = createTask(() => b.get()); // waits in a blocking read
      await sleep(0.2);
      await a.put(1);
      assert.equal(await timeout(5, () => first), 1);
      await a.put(2);
      const loop = getRunningLoop();
      const start = loop.time();
      const putter = createTask(() => a.put(3)); // full: waits for room
      await sleep(0.1);
      assert.equal(putter.done(), false);
      assert.equal(await b.get(), 2); // a blocking read (no script) takes it; b acknowledges nothing
      await timeout(5, () => putter);
      // The event stream is polled every 2 s here: the putter was told, well before that.
      assert.ok(loop.time() - start < 1.5, `the put waited ${(loop.time() - start).toFixed(2)} s for room`);
      assert.equal(await b.get(), 3);
    });
  });

  void test("reading ahead: an item read ahead for a get() that never comes goes to another instance within a second", async () => {
    await run(async () => {
      const name = fresh();
      // A long visibility timeout: an item stuck with a would not come back during the test.
      await using a = new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 600 });
      await using b = new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 600 });
      await a.put(1);
      await a.put(2);
      assert.equal(await a.get(), 1);
      await a.taskDone();
      assert.equal(await a.get(), 2);
      await a.taskDone(); // a reads ahead for a get() that does not come
      await sleep(0.05);
      const other = createTask(() => b.get());
      await sleep(0.05);
      const loop = getRunningLoop();
      const start = loop.time();
      await a.put(3);
      assert.equal(await timeout(5, () => other), 3);
      assert.ok(loop.time() - start < 2, `b got the item after ${(loop.time() - start).toFixed(2)} s`);
      await b.taskDone();
      await timeout(5, () => a.join());
      assert.equal(await a.qsize(), 0);
    });
  });

  void test("a cancelled get() takes nothing: the next item goes to another instance at once", async () => {
    await run(async () => {
      const name = fresh();
      // A long visibility timeout: an item lost to a cancelled get would not come back during the test.
      await using a = new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 600 });
      await using b = new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 600 });
      for (let i = 0; i < 20; i++) {
        const getter = createTask(() => a.get());
        await sleep(0.01);
        getter.cancel();
        await assert.rejects(getter, CancelledError);
      }
      await a.put(42);
      assert.equal(await timeout(5, () => b.get()), 42);
      await b.taskDone();
    });
  });

  void test("gets cancelled at random moments, items put meanwhile: every item is taken exactly once", async () => {
    await run(async () => {
      const name = fresh();
      await using producer = new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 600 });
      await using a = new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 600 });
      await using b = new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 600 });
      const total = 200;
      const seen: number[] = [];
      const putter = createTask(async () => {
        for (let i = 0; i < total; i++) {
          await producer.put(i);
          if (i % 10 === 0) await sleep(0.005);
        }
      });
      // a's gets are cut short by tiny timeouts, some while the take is on the wire.
      const impatient = createTask(async () => {
        for (let i = 0; seen.length < total && i < 5000; i++) {
          try {
            seen.push(await timeout(0.001 * (i % 5), () => a.get()));
            await a.taskDone();
          } catch (error) {
            if (!(error instanceof TimeoutError)) throw error;
          }
        }
      });
      const patient = createTask(async () => {
        while (seen.length < total) {
          try {
            seen.push(await timeout(0.5, () => b.get()));
            await b.taskDone();
          } catch (error) {
            if (!(error instanceof TimeoutError)) throw error;
          }
        }
      });
      await timeout(60, async () => {
        await putter;
        await patient;
      });
      impatient.cancel();
      await impatient.then(() => {}, () => {});
      assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i));
      await timeout(5, () => producer.join());
    });
  });

  void test("bad input: a wrong URL, options, an item that is not JSON, Redis unreachable at start", async () => {
    await run(async () => {
      assert.throws(() => new RedisQueue("x", { url: "http://127.0.0.1:6379" }), /not a Redis URL; it must start with redis:\/\//);
      assert.throws(() => new RedisQueue("x", { url: "127.0.0.1:6379" }), TypeError);
      assert.throws(() => new RedisQueue("x", { url: 6379 as unknown as string }), /options\.url must be a string/);
      assert.throws(() => new RedisQueue("", { url: server.url }), /non-empty string/);
      assert.throws(() => new RedisQueue("x", { url: server.url, maxsize: 1.5 }), /maxsize must be an integer/);
      assert.throws(() => new RedisQueue("x", { url: server.url, visibilityTimeout: 0 }), RangeError);

      await using q = new RedisQueue<unknown>(fresh(), { url: server.url });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await assert.rejects(q.put(cyclic), /cannot be serialised as JSON \(.*circular/i);
      await assert.rejects(q.put(10n), /cannot be serialised as JSON \(.*BigInt/i);
      await assert.rejects(q.put(undefined), /undefined is not a JSON value/);
      await assert.rejects(q.putNowait(() => 1), /function is not a JSON value/);
      assert.equal(await q.qsize(), 0, "nothing was stored for the bad items");

      const port = await freePort();
      const loop = getRunningLoop();
      const start = loop.time();
      await using unreachable = new RedisQueue<number>("x", { url: `redis://127.0.0.1:${port}`, connectTimeout: 1 });
      const error = (await rejection(unreachable.put(1))) as Error;
      assert.match(error.message, new RegExp(`RedisQueue\\("x"\\): cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}/? within 1 s \\(.*ECONNREFUSED.*\\); is redis-server running`));
      assert.ok(loop.time() - start < 8, "the failed connect took too long");
      // Every call reports it; nothing hangs.
      await assert.rejects(timeout(8, () => unreachable.get()), /cannot connect to Redis/);
      const secret = new RedisQueue<number>("x", { url: `redis://user:hunter2@127.0.0.1:${port}`, connectTimeout: 0.5 });
      const hidden = (await rejection(secret.qsize())) as Error;
      assert.doesNotMatch(hidden.message, /hunter2/);
      await secret.close();
    });
  });

  void test("close(): later calls fail clearly; a closed instance's waiters stop", async () => {
    await run(async () => {
      const q = new RedisQueue<number>(fresh(), { url: server.url });
      const getter = createTask(() => q.get());
      await sleep(0.2);
      await q.close();
      await assert.rejects(timeout(5, () => getter), /is closed/);
      await assert.rejects(q.put(1), /RedisQueue\("q\d+-\d+"\) is closed/);
      await q.close(); // idempotent
      // Its blocking read ended with it: the next item goes to another instance at once.
      await using other = new RedisQueue<number>(q.name, { url: server.url, visibilityTimeout: 600 });
      await other.put(5);
      assert.equal(await timeout(5, () => other.get()), 5);
    });
  });
});
