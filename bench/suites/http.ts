/**
 * HTTP and WebSocket servers: hello-world requests/s under wrk (`-t1 -c50 -d5s`, as ANCHORS.md)
 * against aiots, raw node:http and aiohttp (asyncio and uvloop); WebSocket echo messages/s
 * (64-byte text, 10 connections, C client) against aiots, raw ws and Python websockets.
 */
import type { PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const uvloop = "apt-get install python3-uvloop (bench/setup.sh)";

function wrkPeer(kind: string, requires?: string): PeerCommand {
  return {
    command: [node, "bench/http/wrk.ts", kind],
    needs: ["wrk"],
    requires: requires ?? "apt-get install wrk (bench/setup.sh)",
  };
}

function wsPeer(kind: string, requires?: string): PeerCommand {
  return {
    command: [node, "bench/http/ws-echo.ts", kind],
    needs: ["bench/.build/http/client-ws"],
    requires: requires ?? "gcc (bench/setup.sh builds bench/.build/http/client-ws)",
  };
}

export const suite: Suite = {
  name: "http",
  description: "aiots/http and aiots/ws servers beside raw Node and Python's aiohttp and websockets, on 127.0.0.1",
  cases: [
    {
      name: "HTTP hello-world, wrk -t1 -c50 -d5s",
      unit: "req/s",
      lowerIsBetter: false,
      peers: {
        "raw node:http": { ...wrkPeer("node"), anchor: 68_000 },
        aiots: wrkPeer("aiots"),
        aiohttp: { ...wrkPeer("aiohttp", "apt-get install python3-aiohttp wrk (bench/setup.sh)"), anchor: 25_000 },
        "aiohttp+uvloop": { ...wrkPeer("aiohttp-uvloop", `${uvloop}, python3-aiohttp, wrk`), anchor: 32_000 },
      },
      baseline: "raw node:http",
      target: "aiots >= 0.95x raw node:http (about 1.9x aiohttp+uvloop), with every aiots/http feature in place",
      repetitions: { full: 3, quick: 1 },
      quickArgs: ["2"], // seconds of load instead of 5
      timeoutSeconds: 60,
    },
    {
      name: "static file GET, 1 MiB, wrk -t1 -c50 -d5s",
      unit: "req/s",
      lowerIsBetter: false,
      peers: {
        "raw node:http + fs.createReadStream": wrkPeer("node-static", "apt-get install wrk (bench/setup.sh)"),
        "aiots app.static": wrkPeer("aiots-static", "apt-get install wrk (bench/setup.sh)"),
      },
      baseline: "raw node:http + fs.createReadStream",
      target: "aiots >= 0.9x raw node:http + fs.createReadStream",
      repetitions: { full: 3, quick: 1 },
      quickArgs: ["2"],
      timeoutSeconds: 60,
    },
    {
      name: "HTTPS hello-world, wrk -t1 -c50 -d5s",
      unit: "req/s",
      lowerIsBetter: false,
      peers: {
        "raw node:https": wrkPeer("node-https", "apt-get install wrk openssl (bench/setup.sh, scripts/install-test-deps.sh)"),
        "aiots ssl": wrkPeer("aiots-https", "apt-get install wrk openssl (bench/setup.sh, scripts/install-test-deps.sh)"),
      },
      baseline: "raw node:https",
      target: "aiots >= 0.9x raw node:https",
      repetitions: { full: 3, quick: 1 },
      quickArgs: ["2"],
      timeoutSeconds: 60,
    },
    {
      name: "WebSocket echo, 64-byte text, 10 connections (C client)",
      unit: "msg/s",
      lowerIsBetter: false,
      peers: {
        "raw ws": { ...wsPeer("ws"), anchor: 101_000 },
        aiots: wsPeer("aiots"),
        websockets: { ...wsPeer("websockets", "apt-get install python3-websockets gcc (bench/setup.sh)"), anchor: 36_000 },
        "websockets+uvloop": { ...wsPeer("websockets-uvloop", `${uvloop}, python3-websockets, gcc`), anchor: 38_000 },
      },
      baseline: "raw ws",
      target: "aiots >= 0.9x raw ws (about 2.4x websockets+uvloop)",
      repetitions: { full: 3, quick: 1 },
      quickArgs: ["2"],
      timeoutSeconds: 60,
    },
  ],
};
