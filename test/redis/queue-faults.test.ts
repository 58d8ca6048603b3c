// RedisQueue with real faults: consumer processes SIGKILLed, Redis restarted and paused (SIGSTOP).
// Nothing put may be lost; nothing acknowledged may be delivered again.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { run, createTask, sleep, timeout, TimeoutError, getRunningLoop, gather } from "../../src/index.ts";
import { RedisQueue } from "../../src/redis.ts";
import { RedisServer } from "../helpers/redis.ts";

const consumerScript = fileURLToPath(new URL("./fixtures/consumer.ts", import.meta.url));
let server: RedisServer;
let names = 0;
const fresh = (): string => `faults${process.pid}-${names++}`;

interface Consumer {
  child: ChildProcess;
  lines: Array<{ got?: unknown; by?: string; ready?: boolean }>;
  exited: Promise<unknown>;
  /** Resolves once a line matching `test` was printed. */
  waitFor(test: (line: { got?: unknown; ready?: boolean }) => boolean, seconds?: number): Promise<void>;
}

function startConsumer(name: string, count: number, mode: "ack" | "hold", visibilityTimeout: number): Consumer {
  const child = spawn(process.execPath, [consumerScript, server.url, name, String(count), mode, String(visibilityTimeout)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Consumer["lines"] = [];
  const watchers = new Set<() => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(JSON.parse(line) as Consumer["lines"][number]);
    for (const watcher of watchers) watcher();
  });
  const exited = once(child, "exit");
  return {
    child,
    lines,
    exited,
    waitFor: (test, seconds = 30) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (lines.some(test)) {
            watchers.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`no matching line from the consumer within ${seconds} s; got ${JSON.stringify(lines)}`));
        }, seconds * 1000);
        watchers.add(check);
        check();
      }),
  };
}

// A TCP proxy in front of Redis that loses one reply: the first command whose bytes contain
// `marker` reaches Redis and runs, then its connection is cut before the reply comes back (as a
// network fault after the server acted would). Later connections pass through untouched.
async function startReplyLosingProxy(target: URL, marker: string): Promise<{ url: string; cut: () => boolean; close: () => Promise<void> }> {
  let cut = false;
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let losing = false;
    client.on("data", (chunk: Buffer) => {
      if (!cut && chunk.includes(marker)) losing = cut = true;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (losing) {
        client.destroy();
        upstream.destroy();
      } else client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: () => cut,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      proxy.close();
      await once(proxy, "close");
    },
  };
}

void describe("RedisQueue under faults", () => {
  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await server.stop();
  });

  void test("a consumer SIGKILLed while holding an item: the item goes to another consumer after visibilityTimeout", async () => {
    const name = fresh();
    const holder = startConsumer(name, 1, "hold", 1);
    try {
      await holder.waitFor((line) => line.ready === true);
      await run(async () => {
        await using q = new RedisQueue<{ job: number }>(name, { url: server.url, visibilityTimeout: 1 });
        await q.put({ job: 1 });
        await holder.waitFor((line) => line.got !== undefined);
        assert.deepEqual(holder.lines.find((line) => line.got !== undefined)?.got, { job: 1 });
        // While the holder lives it renews the item: nobody else gets it, well past the timeout.
        await assert.rejects(timeout(2.5, () => q.get()), TimeoutError);
        holder.child.kill("SIGKILL");
        await holder.exited;
        const loop = getRunningLoop();
        const killedAt = loop.time();
        assert.deepEqual(await timeout(15, () => q.get()), { job: 1 });
        assert.ok(loop.time() - killedAt < 10);
        await q.taskDone();
        await timeout(5, () => q.join());
        assert.equal(await q.qsize(), 0);
      });
    } finally {
      holder.child.kill("SIGKILL");
    }
  });

  void test("1,000 items and 4 consumers in 2 processes: each item is handled exactly once", async () => {
    const name = fresh();
    const consumers = [startConsumer(name, 2, "ack", 30), startConsumer(name, 2, "ack", 30)];
    try {
      await Promise.all(consumers.map((c) => c.waitFor((line) => line.ready === true)));
      await run(async () => {
        await using q = new RedisQueue<number>(name, { url: server.url });
        for (let i = 0; i < 1000; i++) await q.put(i);
        await timeout(90, () => q.join());
        await q.shutdown();
      });
      await Promise.all(consumers.map((c) => c.exited));
      const got = consumers.flatMap((c) => c.lines.filter((line) => line.got !== undefined).map((line) => line.got as number));
      assert.equal(got.length, 1000, "an item was handled twice or not at all");
      assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
      const consumerNames = new Set(consumers.flatMap((c) => c.lines.map((line) => line.by).filter((by) => by !== undefined)));
      assert.equal(consumerNames.size, 4, `all four consumers took items (${[...consumerNames].join(", ")})`);
      for (const c of consumers) assert.equal(c.child.exitCode, 0);
    } finally {
      for (const c of consumers) c.child.kill("SIGKILL");
    }
  });

  void test("Redis restarted mid-run: clients reconnect, nothing put is lost, nothing acknowledged is delivered again", async () => {
    await run(async () => {
      const name = fresh();
      const total = 300;
      await using producer = new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 2 });
      const consumers = [0, 1].map(() => new RedisQueue<number>(name, { url: server.url, visibilityTimeout: 2 }));
      const acked = new Set<number>();
      const deliveries: number[] = [];
      let againAfterAck = 0;
      const workers = consumers.map((q) =>
        createTask(async () => {
          for await (const n of q) {
            deliveries.push(n);
            if (acked.has(n)) againAfterAck++;
            await q.taskDone();
            acked.add(n);
          }
        }),
      );
      const putter = createTask(async () => {
        for (let i = 0; i < total; i++) {
          await producer.put(i);
          await sleep(0.002);
        }
      });
      try {
        while (deliveries.length < total / 3) await sleep(0.01);
        await server.restart();
        await timeout(90, () => putter);
        await timeout(90, () => producer.join());
        await producer.shutdown();
        // Each worker's last taskDone() has returned once its loop ended (join() resolves as soon as Redis has the last acknowledgement).
        await timeout(30, () => gather(...workers));
        assert.equal(acked.size, total, "every item put was handled");
        assert.equal(againAfterAck, 0, "an acknowledged item was delivered again");
      } finally {
        for (const w of [putter, ...workers]) w.cancel();
        for (const q of consumers) await q.close();
      }
    });
  });

  void test("a put whose reply was lost with its connection is sent again and stored once", async () => {
    await run(async () => {
      const name = fresh();
      const proxy = await startReplyLosingProxy(new URL(server.url), "lost-reply-marker");
      try {
        await using producer = new RedisQueue<string>(name, { url: proxy.url });
        await using consumer = new RedisQueue<string>(name, { url: server.url });
        await producer.put("before");
        await timeout(30, () => producer.put("lost-reply-marker"));
        assert.ok(proxy.cut(), "the proxy cut the connection after Redis ran the put");
        await producer.put("after");
        assert.equal(await consumer.qsize(), 3, "the resent put was stored once");
        const got: string[] = [];
        for (let i = 0; i < 3; i++) {
          got.push(await consumer.getNowait());
          await consumer.taskDone();
        }
        assert.deepEqual(got, ["before", "lost-reply-marker", "after"]);
      } finally {
        await proxy.close();
      }
    });
  });

  void test("Redis paused (SIGSTOP): get() blocks, timeout() around it fires on time, work resumes after SIGCONT", async () => {
    await run(async () => {
      const name = fresh();
      await using a = new RedisQueue<string>(name, { url: server.url });
      await using b = new RedisQueue<string>(name, { url: server.url });
      await a.put("before");
      assert.equal(await b.get(), "before");
      await b.taskDone();
      const loop = getRunningLoop();
      server.pause();
      try {
        for (const op of [() => b.get(), () => b.qsize(), () => a.join()] as Array<() => Promise<unknown>>) {
          const start = loop.time();
          await assert.rejects(timeout(0.5, op), TimeoutError);
          const took = loop.time() - start;
          assert.ok(took >= 0.45 && took < 2, `timeout(0.5) fired after ${took.toFixed(3)} s`);
        }
        // A get waiting through the pause gets the item put after it.
        const waiting = createTask(() => b.get());
        await sleep(0.3);
        assert.equal(waiting.done(), false);
        server.resume();
        await a.put("after");
        assert.equal(await timeout(10, () => waiting), "after");
        await b.taskDone();
        await timeout(10, () => a.join());
      } finally {
        server.resume();
      }
    });
  });
});
