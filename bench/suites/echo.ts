/**
 * TCP echo (uvloop's benchmark shape): 10 connections doing strict request/response with 1 KiB and
 * 64 KiB messages for a fixed time, every byte verified by the C client (bench/echo/client.c, built
 * by bench/setup.sh), against aiots (protocol and streams), raw node:net, and CPython asyncio and
 * uvloop (streams and protocol). Streams servers await drain() after every write; protocol servers
 * write from dataReceived. Each sample reports req/s with p50/p99 latency in `extra`.
 */
import type { BenchCase, PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const client = "bench/.build/echo/client";
const gcc = "gcc (bench/setup.sh builds bench/.build/echo/client)";

function peer(kind: string, bytes: number, anchor?: number, requires?: string): PeerCommand {
  const python = kind.startsWith("asyncio") || kind.startsWith("uvloop");
  return {
    command: [node, "bench/echo/echo.ts", kind, String(bytes)],
    needs: python ? [client, "/usr/bin/python3"] : [client],
    requires: requires ?? gcc,
    ...(anchor === undefined ? {} : { anchor }),
  };
}

const uvloop = `apt-get install python3-uvloop; ${gcc}`;

function echoCase(bytes: number, label: string, anchors: Record<string, number>, target: string): BenchCase {
  return {
    name: `TCP echo, ${label} messages, 10 connections (C client)`,
    unit: "req/s",
    lowerIsBetter: false,
    peers: {
      "raw node:net": peer("node", bytes, anchors["node"]),
      "aiots protocol": peer("aiots-protocol", bytes),
      "aiots streams": peer("aiots-streams", bytes),
      "asyncio streams": peer("asyncio-streams", bytes, anchors["asyncio-streams"]),
      "asyncio protocol": peer("asyncio-protocol", bytes, anchors["asyncio-protocol"]),
      "uvloop streams": peer("uvloop-streams", bytes, anchors["uvloop-streams"], uvloop),
      "uvloop protocol": peer("uvloop-protocol", bytes, anchors["uvloop-protocol"], uvloop),
    },
    baseline: "raw node:net",
    target,
    repetitions: { full: 3, quick: 1 },
    quickArgs: ["1"], // seconds of load instead of 5 (keeps --quick under 2 minutes)
    timeoutSeconds: 60,
  };
}

export const suite: Suite = {
  name: "echo",
  description: "TCP echo servers on 127.0.0.1: aiots protocol and streams beside raw node:net, asyncio and uvloop",
  cases: [
    echoCase(
      1024,
      "1 KiB",
      { node: 111_000, "asyncio-streams": 76_000, "asyncio-protocol": 134_000, "uvloop-streams": 108_000, "uvloop-protocol": 156_000 },
      "aiots protocol >= raw node:net; aiots streams >= 0.9x raw node:net (ahead of uvloop streams)",
    ),
    echoCase(
      64 * 1024,
      "64 KiB",
      { node: 31_000, "asyncio-streams": 32_000, "asyncio-protocol": 52_000, "uvloop-streams": 30_000, "uvloop-protocol": 21_000 },
      "aiots protocol and streams >= raw node:net",
    ),
  ],
};
