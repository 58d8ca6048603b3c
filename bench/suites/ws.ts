/**
 * aiots/ws's standalone `serve()` beside raw `ws` configured the same way and Python websockets:
 * echo of 64-byte text over 10 connections without compression (C client, as ANCHORS.md) and with
 * permessage-deflate (a ws-based client that offers it), and the server RSS that 1,000 idle
 * connections add, with compression on and off.
 */
import type { PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const websocketsNeeds = "apt-get install python3-websockets";

function echoPeer(kind: string, mode: "plain" | "deflate", requires?: string): PeerCommand {
  return {
    command: [node, "bench/ws/echo.ts", kind, mode],
    needs: mode === "plain" ? ["bench/.build/http/client-ws"] : [],
    requires: requires ?? (mode === "plain" ? "gcc (bench/setup.sh builds bench/.build/http/client-ws)" : undefined),
  };
}

function idlePeer(kind: string, mode: "plain" | "deflate", requires?: string): PeerCommand {
  return { command: [node, "bench/ws/idle.ts", kind, mode], requires };
}

export const suite: Suite = {
  name: "ws",
  description: "aiots/ws serve() beside raw ws (same settings) and Python websockets, on 127.0.0.1",
  cases: [
    {
      name: "WebSocket echo, 64-byte text, 10 connections, compression off (C client)",
      unit: "msg/s",
      lowerIsBetter: false,
      peers: {
        "raw ws": { ...echoPeer("ws", "plain"), anchor: 101_000 },
        aiots: echoPeer("aiots", "plain"),
        websockets: { ...echoPeer("websockets", "plain", `${websocketsNeeds} gcc`), anchor: 36_000 },
      },
      baseline: "raw ws",
      target: "aiots >= 0.95x raw ws",
      repetitions: { full: 3, quick: 1 },
      quickArgs: ["2"],
      timeoutSeconds: 60,
    },
    {
      name: "WebSocket echo, 64-byte text, 10 connections, permessage-deflate (ws client)",
      unit: "msg/s",
      lowerIsBetter: false,
      peers: {
        "raw ws": echoPeer("ws", "deflate"),
        aiots: echoPeer("aiots", "deflate"),
        websockets: echoPeer("websockets", "deflate", websocketsNeeds),
      },
      baseline: "raw ws",
      target: "aiots >= 0.9x raw ws with the same deflate settings",
      repetitions: { full: 3, quick: 1 },
      quickArgs: ["2"],
      timeoutSeconds: 60,
    },
    {
      name: "server RSS added by 1,000 idle connections, compression off",
      unit: "MB",
      lowerIsBetter: true,
      peers: { "raw ws": idlePeer("ws", "plain"), aiots: idlePeer("aiots", "plain"), websockets: idlePeer("websockets", "plain", websocketsNeeds) },
      baseline: "raw ws",
      target: "reported beside ws and websockets",
      repetitions: { full: 3, quick: 1 },
      warmup: false,
      timeoutSeconds: 120,
    },
    {
      name: "server RSS added by 1,000 idle connections, permessage-deflate",
      unit: "MB",
      lowerIsBetter: true,
      peers: { "raw ws": idlePeer("ws", "deflate"), aiots: idlePeer("aiots", "deflate"), websockets: idlePeer("websockets", "deflate", websocketsNeeds) },
      baseline: "raw ws",
      target: "reported beside ws and websockets (bounded zlib state: ~64 KiB per connection)",
      repetitions: { full: 3, quick: 1 },
      warmup: false,
      timeoutSeconds: 120,
    },
  ],
};
