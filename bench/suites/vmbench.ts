/**
 * vmbench: uvloop's own benchmark shape (MagicStack/vmbench, the source of uvloop's "2-4x faster"
 * figures): TCP echo with 1 KiB, 10 KiB and 100 KiB messages, streams servers (read up to 100 KiB,
 * write back, no drain) and protocol servers (write from data_received), TCP_NODELAY, 10 concurrent
 * request/response connections. aiots beside CPython asyncio, uvloop and raw node:net; the ratios
 * are against uvloop, the figure to beat. Differences from vmbench: our C epoll client replaces its
 * Python multi-process client (which saturates before the fastest servers on 2 cores), runs 5 s
 * instead of 30 s, and verifies every byte.
 */
import type { BenchCase, PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const client = "bench/.build/echo/client";
const gcc = "gcc (bench/setup.sh builds bench/.build/echo/client)";

function peer(server: string, mode: string, bytes: number): PeerCommand {
  const python = server === "asyncio" || server === "uvloop";
  return {
    command: [node, "bench/vmbench/vmbench.ts", server, mode, String(bytes), "5"],
    needs: python ? [client, "/usr/bin/python3"] : [client],
    requires: server === "uvloop" ? `apt-get install python3-uvloop; ${gcc}` : gcc,
  };
}

function vmCase(mode: "streams" | "protocol", bytes: number, label: string): BenchCase {
  const uvloop = `uvloop ${mode}`;
  return {
    name: `vmbench echo, ${mode}, ${label} messages, 10 connections`,
    unit: "req/s",
    lowerIsBetter: false,
    peers: {
      [uvloop]: peer("uvloop", mode, bytes),
      [`aiots ${mode}`]: peer("aiots", mode, bytes),
      [`asyncio ${mode}`]: peer("asyncio", mode, bytes),
      "raw node:net": peer("node", mode, bytes),
    },
    baseline: uvloop,
    target: `aiots ${mode} ahead of uvloop ${mode} (cost < 1x)`,
    repetitions: { full: 3, quick: 1 },
    warmup: false, // vmbench.ts warms each server up itself, on connections that then close
    quickArgs: ["1"], // seconds of load instead of 5
    timeoutSeconds: 60,
    // --quick keeps the streams cases only (the whole suite would take a minute of the 2 --quick has)
    ...(mode === "protocol" ? { fullOnly: true } : {}),
  };
}

const sizes: [number, string][] = [
  [1024, "1 KiB"],
  [10 * 1024, "10 KiB"],
  [100 * 1024, "100 KiB"],
];

export const suite: Suite = {
  name: "vmbench",
  description:
    "uvloop's own benchmark shape (MagicStack/vmbench): TCP echo on 127.0.0.1 with 1 KiB, 10 KiB and 100 KiB messages, " +
    "10 concurrent request/response connections. Streams servers read up to 100 KiB and write it back without awaiting " +
    "drain(), protocol servers write from data_received (raw node:net writes from its \"data\" event in both), all with " +
    "TCP_NODELAY. Ratios are against uvloop; raw node:net is shown for reference. Our C epoll client (every byte verified, " +
    "5 s per sample) replaces vmbench's Python client, which saturates first on 2 cores.",
  cases: (["streams", "protocol"] as const).flatMap((mode) => sizes.map(([bytes, label]) => vmCase(mode, bytes, label))),
};
