/**
 * aiots side of the debug suite: `<case> <mode> [N]`, where mode is `off` (debug mode off), `on`
 * (debug mode: slow-callback timing, creation stacks, await sites, never-awaited tracking),
 * `inspect` (debug off, `enableInspection({ awaitSites: true })`: await sites recorded for
 * `aiots ps`, as `AIOTS_INSPECT=sites` does) or
 * `channels` (debug off, a subscriber on the task diagnostics channels). A 10% warm-up, then the
 * timed run, in ms.
 */
import diagnosticsChannel from "node:diagnostics_channel";
import { createTask, disableInspection, enableInspection, run, sleep, type Task } from "../../src/index.ts";
import { report } from "../suite.ts";

const [name = "spawn", mode = "off", nArg] = process.argv.slice(2);

async function spawn(n: number): Promise<void> {
  const tasks: Task<void>[] = new Array<Task<void>>(n);
  for (let i = 0; i < n; i++) tasks[i] = createTask(() => sleep(0));
  for (const t of tasks) await t;
}

async function sleepZero(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await sleep(0);
}

const cases: Record<string, [(n: number) => Promise<void>, number]> = { spawn: [spawn, 100_000], sleep0: [sleepZero, 1_000_000] };
const [work, defaultN] = cases[name] ?? [];
if (work === undefined || defaultN === undefined) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(", ")}`);
if (!["off", "on", "inspect", "channels"].includes(mode)) throw new Error(`unknown mode ${mode}; one of off, on, inspect, channels`);
const n = nArg === undefined ? defaultN : Number(nArg);

let events = 0;
const count = (): void => void events++;
if (mode === "channels") for (const c of ["aiots:task:created", "aiots:task:done", "aiots:task:cancelled"]) diagnosticsChannel.subscribe(c, count);
if (mode === "inspect") await enableInspection({ awaitSites: true });

const ms = await run(
  async () => {
    await work(Math.max(1, Math.floor(n / 10)));
    const start = performance.now();
    await work(n);
    return performance.now() - start;
  },
  { debug: mode === "on" },
);
if (mode === "inspect") disableInspection();
report(ms, { n, mode, channelEvents: events });
