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
const echo10 = /^echo round trips, 10 concurrent connections \(1 KiB/;

export const anchors: Anchor[] = [
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
