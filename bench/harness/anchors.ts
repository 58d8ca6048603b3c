/**
 * The peer figures of ANCHORS.md (measured on this kind of machine before aiots existed), matched
 * to the cases that repeat the same work, so every report shows whether the harness reproduces
 * them. A suite can also give a peer's anchor directly (`PeerCommand.anchor`); that wins.
 */

export interface Anchor {
  suite: string;
  /** Matches the case name. */
  caseName: RegExp;
  /** Matches the peer name. */
  peer: RegExp;
  /** The ANCHORS.md figure, in the case's unit. */
  value: number;
  /** Which ANCHORS.md row and column it is. */
  source: string;
}

/** Differences under this fraction are within the machine's run-to-run noise (ANCHORS.md). */
export const anchorTolerance = 0.2;

const tasks100k = /create\+await 100k tasks/;
const gather100k = /gather of 100k trivial/;
const sleep1M = /^1M (?:await )?sleep\(0\) in one task/;
const queue1M = /^producer\/consumer.*1M items/;
const lockFree = /Lock acquire\/release, nothing awaited while held/;
const lockHeld = /Lock acquire\/release, held across a sleep\(0\)/;
const echo10 = /^echo round trips, 10 concurrent connections \(1 KiB/;

/** ANCHORS.md figures by suite, case and peer (the suites that give `anchor` themselves are not listed). */
export const anchors: Anchor[] = [
  { suite: "tasks", caseName: tasks100k, peer: /^asyncio$/, value: 937, source: "create+await 100k tasks, asyncio" },
  { suite: "tasks", caseName: tasks100k, peer: /^uvloop$/, value: 874, source: "create+await 100k tasks, uvloop" },
  { suite: "tasks", caseName: tasks100k, peer: /^raw Node/, value: 230, source: "create+await 100k tasks, raw Node 24 (promises, setImmediate)" },
  { suite: "tasks", caseName: tasks100k, peer: /^Effection/, value: 10_058, source: "create+await 100k tasks, Effection 4" },
  { suite: "tasks", caseName: gather100k, peer: /^asyncio$/, value: 606, source: "gather of 100k trivial coroutines, asyncio" },
  { suite: "tasks", caseName: gather100k, peer: /^uvloop$/, value: 594, source: "gather of 100k trivial coroutines, uvloop" },
  { suite: "tasks", caseName: gather100k, peer: /^raw Node/, value: 42, source: "gather of 100k trivial coroutines, raw Node 24 (Promise.all)" },
  { suite: "tasks", caseName: gather100k, peer: /^Effection/, value: 9956, source: "gather of 100k trivial coroutines, Effection all()" },
  { suite: "tasks", caseName: sleep1M, peer: /^asyncio$/, value: 1959, source: "1M sleep(0) in one task, asyncio" },
  { suite: "tasks", caseName: sleep1M, peer: /^uvloop$/, value: 999, source: "1M sleep(0) in one task, uvloop" },
  { suite: "tasks", caseName: sleep1M, peer: /^raw Node \(setImmediate/, value: 1152, source: "1M sleep(0) in one task, raw Node 24 (one setImmediate each)" },
  { suite: "tasks", caseName: sleep1M, peer: /^Effection/, value: 2089, source: "1M sleep(0) in one task, Effection" },
  { suite: "sync", caseName: queue1M, peer: /^asyncio$/, value: 737, source: "producer/consumer, bounded queue (100), 1M items, asyncio" },
  { suite: "sync", caseName: queue1M, peer: /^uvloop$/, value: 715, source: "producer/consumer, bounded queue (100), 1M items, uvloop" },
  { suite: "sync", caseName: queue1M, peer: /^hand-rolled/, value: 141, source: "producer/consumer, 1M items, raw Node 24 (minimal hand-rolled queue)" },
  { suite: "sync", caseName: queue1M, peer: /^p-queue$/, value: 1458, source: "producer/consumer, 1M items, p-queue" },
  { suite: "sync", caseName: lockFree, peer: /^asyncio$/, value: 449, source: "100 tasks x 10k lock acquire/release, nothing awaited while held, asyncio" },
  { suite: "sync", caseName: lockFree, peer: /^uvloop$/, value: 432, source: "100 tasks x 10k lock, nothing awaited while held, uvloop" },
  { suite: "sync", caseName: lockFree, peer: /^hand-rolled/, value: 532, source: "100 tasks x 10k lock, nothing awaited while held, raw Node 24 (hand-rolled lock)" },
  { suite: "sync", caseName: lockFree, peer: /^async-mutex$/, value: 2080, source: "100 tasks x 10k lock, nothing awaited while held, async-mutex" },
  { suite: "sync", caseName: lockHeld, peer: /^asyncio$/, value: 5775, source: "100 tasks x 10k lock held across a sleep(0), asyncio" },
  { suite: "sync", caseName: lockHeld, peer: /^uvloop$/, value: 3889, source: "100 tasks x 10k lock held across a sleep(0), uvloop" },
  { suite: "sync", caseName: lockHeld, peer: /^hand-rolled/, value: 1762, source: "100 tasks x 10k lock held across a sleep(0), raw Node 24 (hand-rolled lock)" },
  { suite: "sync", caseName: lockHeld, peer: /^async-mutex$/, value: 3600, source: "100 tasks x 10k lock held across a sleep(0), async-mutex" },
  { suite: "scaling", caseName: tasks100k, peer: /^asyncio$/, value: 937, source: "create+await 100k tasks, asyncio" },
  { suite: "scaling", caseName: tasks100k, peer: /^uvloop$/, value: 874, source: "create+await 100k tasks, uvloop" },
  { suite: "scaling", caseName: tasks100k, peer: /^raw Node/, value: 230, source: "create+await 100k tasks, raw Node 24 (promises, setImmediate)" },
  { suite: "scaling", caseName: echo10, peer: /^raw node:net$/, value: 111_000, source: "TCP echo 1 KiB, 10 connections, raw node:net (24)" },
  { suite: "scaling", caseName: echo10, peer: /^asyncio streams$/, value: 76_000, source: "TCP echo 1 KiB, 10 connections, asyncio streams" },
  { suite: "scaling", caseName: echo10, peer: /^uvloop streams$/, value: 108_000, source: "TCP echo 1 KiB, 10 connections, uvloop streams" },
];

/** The anchor for `peer` in case `caseName` of `suite`, if ANCHORS.md has one. */
export function anchorFor(suite: string, caseName: string, peer: string): Anchor | undefined {
  return anchors.find((a) => a.suite === suite && a.caseName.test(caseName) && a.peer.test(peer));
}
