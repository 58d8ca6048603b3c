/**
 * Scaling out: RedisQueue throughput beside a plain node-redis Streams loop and BullMQ (1 KiB items,
 * 1 producer, 4 consumers in 2 processes, each peer on its own private redis-server started the
 * same way), and HTTP hello-world from worker processes (workers: 2 against workers: 1, with the
 * port shared by SO_REUSEPORT and by node:cluster's round-robin; wrk shares the 2 cores).
 */
import type { PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const redisServer = "apt-get install redis-server (scripts/install-test-deps.sh)";

function queuePeer(kind: string): PeerCommand {
  return { command: [node, "bench/redis/queue.ts", kind], needs: ["redis-server"], requires: redisServer };
}

function workersPeer(workers: number, sharing: string): PeerCommand {
  return { command: [node, "bench/redis/http-workers.ts", String(workers), sharing], needs: ["wrk"], requires: "apt-get install wrk (bench/setup.sh)" };
}

export const suite: Suite = {
  name: "redis",
  description:
    "aiots/redis and worker processes. Queue: 20,000 items of 1 KiB put one after another by one producer, taken " +
    "and acknowledged by 4 consumers in 2 processes, until the last acknowledgement (RedisQueue put/get/taskDone/join; " +
    "plain node-redis XADD / XREADGROUP COUNT 1 BLOCK / XACK; BullMQ Queue.add / Worker on its node-redis adapter), " +
    "each on a private redis-server without persistence. HTTP: GET / hello world under wrk -t1 -c50 from " +
    "serveForever({ workers }) processes; CPU of both sides in the extras.",
  cases: [
    {
      name: "queue throughput, 1 KiB items, 1 producer, 4 consumers in 2 processes",
      unit: "msg/s",
      lowerIsBetter: false,
      peers: {
        "plain node-redis": queuePeer("plain"),
        aiots: queuePeer("aiots"),
        bullmq: queuePeer("bullmq"),
      },
      baseline: "plain node-redis",
      target: "aiots >= 0.8x the plain node-redis loop, ahead of BullMQ",
      repetitions: { full: 5, quick: 1 },
      quickArgs: ["5000"],
      timeoutSeconds: 120,
    },
    {
      name: "HTTP hello-world from worker processes, wrk -t1 -c50 -d5s",
      unit: "req/s",
      lowerIsBetter: false,
      peers: {
        "workers: 1 (cluster)": workersPeer(1, "cluster"),
        aiots: workersPeer(2, "cluster"),
        "workers: 1 (SO_REUSEPORT)": workersPeer(1, "reuseport"),
        "workers: 2 (SO_REUSEPORT)": workersPeer(2, "reuseport"),
      },
      // aiots: the default, workers: 2 sharing the port with node:cluster.
      baseline: "workers: 1 (cluster)",
      target: "workers: 2 above workers: 1 when the client leaves a core (here wrk shares the 2 cores); pick the port sharing by these figures",
      repetitions: { full: 5, quick: 1 },
      quickArgs: ["2"],
      timeoutSeconds: 60,
    },
  ],
};
