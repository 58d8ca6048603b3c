/**
 * Queue throughput peer: `queue.ts <aiots|plain|bullmq> [items]` starts a private redis-server (no
 * persistence), two consumer processes (bench/redis/queue-consumer.ts, two consumers each), then one
 * producer here puts `items` 1 KiB strings one after another (20,000 by default) and waits until
 * every item has been handled and acknowledged. Reports items per second, from the first put to
 * the last acknowledgement, with the CPU seconds of the producer, the consumers and redis-server.
 *
 * aiots: RedisQueue put / get / taskDone / join. plain: XADD / XREADGROUP COUNT 1 BLOCK / XACK with
 * node-redis, completion read from XINFO GROUPS (lag and pending 0). bullmq: Queue.add / Worker
 * (concurrency 1, two per process) on BullMQ's node-redis adapter, completion from getJobCounts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { createClient } from "redis";
import { Queue as BullQueue } from "bullmq";
import { run } from "../../src/index.ts";
import { RedisQueue } from "../../src/redis.ts";
import { processCpuSeconds } from "../harness/measure.ts";
import { RedisServer } from "../../test/helpers/redis.ts";

const [kind = "aiots", itemsArg = "20000"] = process.argv.slice(2);
const items = Number(itemsArg);
const item = "x".repeat(1024);
const name = "bench";

const redis = await RedisServer.start({ persistence: false });
const consumers: ChildProcess[] = [];
try {
  if (kind === "plain") {
    const setup = await createClient({ url: redis.url }).connect();
    await setup.sendCommand(["XGROUP", "CREATE", name, "g", "0", "MKSTREAM"]);
    await setup.close();
  }
  if (kind === "aiots") {
    // Register the queue's group before the consumers start, as a deployed queue would be.
    await run(async () => {
      await using q = new RedisQueue<string>(name, { url: redis.url });
      await q.qsize();
    });
  }
  for (let i = 0; i < 2; i++) {
    const child = spawn(process.execPath, ["bench/redis/queue-consumer.ts", kind, redis.url, name], { stdio: ["ignore", "pipe", "inherit"] });
    consumers.push(child);
  }
  const outputs = consumers.map((child) => {
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
    return lines;
  });
  await Promise.all(consumers.map((child, i) => waitLine(outputs[i]!, "ready", child)));

  let elapsed: number;
  const cpuStart = process.cpuUsage();
  if (kind === "aiots") {
    elapsed = await run(async () => {
      await using q = new RedisQueue<string>(name, { url: redis.url });
      await q.qsize();
      const start = performance.now();
      for (let i = 0; i < items; i++) await q.put(item);
      await q.join();
      const took = performance.now() - start;
      await q.shutdown();
      return took;
    });
  } else if (kind === "plain") {
    const client = await createClient({ url: redis.url, RESP: 2 }).connect();
    const start = performance.now();
    for (let i = 0; i < items; i++) await client.sendCommand(["XADD", name, "*", "d", item]);
    for (;;) {
      const groups = await client.sendCommand<Array<Array<string | number>>>(["XINFO", "GROUPS", name]);
      const info = groups[0]!;
      const field = (key: string): unknown => info[info.indexOf(key) + 1];
      if (field("pending") === 0 && field("lag") === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    elapsed = performance.now() - start;
    for (let i = 0; i < 4; i++) await client.sendCommand(["XADD", name, "*", "stop", "1"]);
    await client.close();
  } else if (kind === "bullmq") {
    const connection = await createClient({ url: redis.url }).connect();
    const queue = new BullQueue<string>(name, { connection });
    await queue.waitUntilReady();
    const start = performance.now();
    for (let i = 0; i < items; i++) await queue.add("item", item, { removeOnComplete: true });
    for (;;) {
      const counts = await queue.getJobCounts("wait", "active", "delayed", "prioritized", "waiting-children");
      if (Object.values(counts).every((n) => n === 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    elapsed = performance.now() - start;
    await queue.close();
    await connection.close();
  } else {
    throw new TypeError(`kind must be aiots, plain or bullmq, got ${kind}`);
  }
  const usage = process.cpuUsage(cpuStart);
  const producerCpu = (usage.user + usage.system) / 1e6;
  const consumerCpu = consumers.reduce((sum, child) => sum + processCpuSeconds(child.pid!), 0);
  const redisCpu = processCpuSeconds(redis.pid);
  if (kind === "bullmq") for (const child of consumers) child.kill("SIGTERM");
  await Promise.all(consumers.map((child) => once(child, "exit")));
  const handled = outputs.reduce((sum, lines) => sum + (JSON.parse(lines.at(-1)!) as { handled: number }).handled, 0);
  if (handled !== items) throw new Error(`${kind}: ${handled} items handled, ${items} put`);
  process.stdout.write(`${JSON.stringify({ value: items / (elapsed / 1000), extra: { producerCpu, consumerCpu, redisCpu } })}\n`);
} finally {
  for (const child of consumers) child.kill("SIGKILL");
  await redis.stop();
}

function waitLine(lines: string[], wanted: string, child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (lines.includes(wanted)) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`a consumer exited before it was ready (code ${child.exitCode})`));
      }
    }, 10);
  });
}
