/**
 * Demo 5 — the loop itself, as uvloop was shown: how much one task switch costs (one task awaiting
 * `sleep(0)` a million times) beside one `setImmediate` per switch, and what spawning a task costs
 * beside raw promises. Measured fairly: each side warmed up first, then rounds alternated (A B B A),
 * the best round of each side kept. The peers' figures (uvloop, asyncio) come from the newest
 * `npm run bench` result of the tasks suite in bench/results/, when there is one.
 *
 *   node examples/fast-loop.ts            # 1,000,000 switches, 100,000 tasks
 *   node examples/fast-loop.ts --quick    # a tenth of that
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createTask, run, sleep } from "../src/index.ts";

/** One task switching `n` times: each `await sleep(0)` lets every other ready task run. */
async function aiotsSwitches(n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await sleep(0);
  return performance.now() - started;
}

/** The same switches the usual Node way: one `setImmediate` per yield. */
async function immediateSwitches(n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  return performance.now() - started;
}

// The same work as the bench's "create+await 100k tasks" case, so the report's figures compare.
async function aiotsSpawn(n: number): Promise<number> {
  const started = performance.now();
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(createTask(() => sleep(0)));
  for (const task of tasks) await task;
  return performance.now() - started;
}

async function rawSpawn(n: number): Promise<number> {
  const started = performance.now();
  const work = [];
  for (let i = 0; i < n; i++) work.push((async () => new Promise<void>((resolve) => setImmediate(resolve)))());
  for (const promise of work) await promise;
  return performance.now() - started;
}

/** Best time of each side over alternated rounds (A B, then B A), after one warm-up run of each. */
async function fairly(a: (n: number) => Promise<number>, b: (n: number) => Promise<number>, n: number, nb = n): Promise<[number, number]> {
  await a(Math.ceil(n / 10));
  await b(Math.ceil(nb / 10));
  const first = [await a(n), await b(nb)];
  const second = [await b(nb), await a(n)];
  return [Math.min(first[0]!, second[1]!), Math.min(first[1]!, second[0]!)];
}

/** The median (ms) of each peer of one tasks-suite case in the newest saved bench result, if any. */
function benchFigures(caseName: RegExp): { when: string; load: number | undefined; peers: Record<string, number> } | null {
  const dir = path.join(import.meta.dirname, "..", "bench", "results");
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^\d{4}-\d\d-\d\d-tasks(?:-quick)?\.json$/.test(f)).sort();
  } catch {
    return null; // an installed package has no bench results
  }
  const file = files.filter((f) => !f.includes("-quick")).at(-1) ?? files.at(-1);
  if (file === undefined) return null;
  type Saved = { startedAt: string; load?: { atStart: number }; machine?: { loadAverageAtStart?: number[] }; cases: { name: string; peers: Record<string, { stats: { median: number } | null }> }[] };
  const result = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Saved;
  const found = result.cases.find((c) => caseName.test(c.name));
  if (found === undefined) return null;
  const peers: Record<string, number> = {};
  for (const [name, p] of Object.entries(found.peers)) if (p.stats) peers[name] = p.stats.median;
  return { when: result.startedAt.slice(0, 10), load: result.load?.atStart ?? result.machine?.loadAverageAtStart?.[0], peers };
}

function context(caseName: RegExp, print: (line: string) => void): void {
  const figures = benchFigures(caseName);
  if (figures === null) return;
  const names = ["uvloop", "asyncio"].filter((n) => figures.peers[n] !== undefined);
  if (names.length === 0) return;
  const shown = names.map((n) => `${n} ${Math.round(figures.peers[n]!).toLocaleString("en-US")} ms`).join(", ");
  const aiots = figures.peers["aiots"];
  const load = figures.load === undefined ? "" : `, load ${figures.load}`;
  print(`      bench report (${figures.when}${load}): ${shown}${aiots === undefined ? "" : `; aiots ${Math.round(aiots).toLocaleString("en-US")} ms`}`);
}

const us = (ms: number, n: number): string => `${((ms * 1000) / n).toFixed(2)} µs`;
const count = (n: number): string => n.toLocaleString("en-US");

export async function fastLoopDemo(options: { quick?: boolean; print?: (line: string) => void } = {}): Promise<void> {
  const print = options.print ?? console.log;
  const switches = options.quick ? 100_000 : 1_000_000;
  // setImmediate costs ~5x more per switch: a quarter as many switches keep the demo short, and
  // the comparison is per switch
  const immediates = switches / 4;
  const [loopMs, immediateMs] = await fairly(aiotsSwitches, immediateSwitches, switches, immediates);
  const perSwitch = (immediateMs / immediates) / (loopMs / switches);
  print(`    ${count(switches)} task switches (one task awaiting sleep(0)): ${Math.round(loopMs)} ms, ${us(loopMs, switches)} per switch`);
  print(`    one setImmediate per switch instead: ${us(immediateMs, immediates)} per switch (the aiots loop is ${perSwitch.toFixed(1)}x faster)`);
  context(/^1M (?:await )?sleep\(0\) in one task/, print);
  const tasks = switches / 10;
  const [spawnMs, rawMs] = await fairly(aiotsSpawn, rawSpawn, tasks);
  print(`    spawning ${count(tasks)} tasks, each awaiting sleep(0), warmed up and alternated: ${Math.round(spawnMs)} ms, ${us(spawnMs, tasks)} per task`);
  print(`    raw promises + setImmediate, same work: ${Math.round(rawMs)} ms (aiots/raw = ${(spawnMs / rawMs).toFixed(2)}x: a task is a promise plus cancellation, a name and a place in the loop)`);
  context(/^create\+await 100k tasks/, print);
}

if (import.meta.main) await run(() => fastLoopDemo({ quick: process.argv.includes("--quick") }));
