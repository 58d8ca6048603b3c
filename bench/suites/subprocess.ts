/**
 * Subprocesses and executors: 10k sequential `toThread` round trips of a tiny job, and 200
 * sequential spawn+communicate of a short child (`echo hello`), for aiots, raw Node (one Worker
 * with postMessage; child_process.spawn), CPython asyncio and uvloop doing the same.
 */
import type { BenchCase, PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
const python = "/usr/bin/python3";
const dir = "bench/subprocess";

function peers(mode: "to-thread" | "spawn", n: number): Record<string, PeerCommand> {
  const args = [mode, String(n)];
  return {
    "raw Node": { command: [node, `${dir}/node.ts`, ...args] },
    aiots: { command: [node, `${dir}/aiots.ts`, ...args] },
    ...(mode === "spawn"
      ? { "aiots (built)": { command: [node, `${dir}/aiots.ts`, ...args, "built"], needs: ["dist/index.js"], requires: "npm run build (npm ci runs it)" } }
      : {}),
    asyncio: { command: [python, `${dir}/asyncio_peer.py`, ...args], requires: "Debian's python3 (/usr/bin/python3)" },
    uvloop: { command: [python, `${dir}/asyncio_peer.py`, ...args, "uvloop"], requires: "apt-get install python3-uvloop (bench/setup.sh)" },
  };
}

const cases: BenchCase[] = [
  {
    name: "10k toThread round trips of a small job ((x) => x + 1), one after another",
    unit: "ms",
    lowerIsBetter: true,
    peers: peers("to-thread", 10_000),
    baseline: "raw Node",
    target: "aiots <= 1.5x raw Node; faster than asyncio.to_thread",
  },
  {
    name: "spawn + communicate 200 short child processes (echo hello), one after another",
    unit: "ms",
    lowerIsBetter: true,
    peers: peers("spawn", 200),
    baseline: "raw Node",
    target:
      "aiots (built) within ~1.2x raw Node (process creation dominates; loaded from src/*.ts, aiots " +
      "leaves the process ~30 MB larger and each fork slower)",
  },
];

export const suite: Suite = {
  name: "subprocess",
  description:
    "Executors and child processes. toThread: 10k sequential round trips of (x) => x + 1 through the default " +
    "thread pool (aiots: worker_threads with the job sent by source and compiled once per worker; raw Node: one " +
    "Worker answering postMessage; asyncio/uvloop: asyncio.to_thread on the default ThreadPoolExecutor). Spawn: " +
    "200 sequential create_subprocess_exec('echo', 'hello', stdout=PIPE) + communicate() (raw Node: " +
    "child_process.spawn, stdout collected until 'close'; aiots also from its build in dist/, as installed). " +
    "Each peer runs a 10% warm-up first.",
  cases,
};
