/**
 * One consumer process of the queue benchmark: `queue-consumer.ts <aiots|plain|bullmq> <url> <name>`
 * runs two consumers that take 1 KiB items and acknowledge them until told to stop; prints "ready"
 * once connected and `{"handled": n}` at the end.
 */
import { createClient } from "redis";
import { Worker } from "bullmq";
import { run, createTask, gather } from "../../src/index.ts";
import { RedisQueue } from "../../src/redis.ts";

const [kind, url = "", name = "bench"] = process.argv.slice(2);
let handled = 0;

if (kind === "aiots") {
  await run(async () => {
    const queues = [0, 1].map((i) => new RedisQueue<string>(name, { url, consumer: `${process.pid}-${i}` }));
    await Promise.all(queues.map((q) => q.qsize())); // connected
    process.stdout.write("ready\n");
    await gather(
      ...queues.map((q) =>
        createTask(async () => {
          for await (const item of q) {
            if (item.length !== 1024) throw new Error("bad item");
            handled++;
            await q.taskDone();
          }
        }),
      ),
    );
    for (const q of queues) await q.close();
  });
} else if (kind === "plain") {
  // A plain node-redis loop: XREADGROUP BLOCK one entry, XACK it; an entry with field "stop" ends it.
  const clients = await Promise.all([0, 1].map(() => createClient({ url, RESP: 2 }).connect()));
  process.stdout.write("ready\n");
  await Promise.all(
    clients.map(async (client, i) => {
      for (;;) {
        const reply = await client.sendCommand<[[string, [[string, [string, string]]]]] | null>(["XREADGROUP", "GROUP", "g", `${process.pid}-${i}`, "COUNT", "1", "BLOCK", "1000", "STREAMS", name, ">"]);
        if (reply === null) continue;
        const [id, [field, value]] = reply[0][1][0];
        await client.sendCommand(["XACK", name, "g", id]);
        if (field === "stop") break;
        if (value.length !== 1024) throw new Error("bad item");
        handled++;
      }
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
} else if (kind === "bullmq") {
  // BullMQ on node-redis (its adapter), the client the other two peers use.
  const connections = await Promise.all([0, 1].map(() => createClient({ url }).connect()));
  // The producer sends SIGTERM once every job is done (BullMQ has no shutdown every worker sees).
  let finish = (): void => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  process.once("SIGTERM", () => finish());
  const workers = connections.map(
    (connection) =>
      new Worker<string>(
        name,
        async (job) => {
          if (job.data.length !== 1024) throw new Error("bad item");
          handled++;
        },
        { connection, concurrency: 1, removeOnComplete: { count: 0 }, autorun: true },
      ),
  );
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  process.stdout.write("ready\n");
  await done;
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(connections.map((c) => c.close()));
} else {
  throw new TypeError(`kind must be aiots, plain or bullmq, got ${kind}`);
}
process.stdout.write(`${JSON.stringify({ handled })}\n`);
