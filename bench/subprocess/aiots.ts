/**
 * aiots peer of the subprocess suite.
 *   to-thread N: N sequential `toThread((x) => x + 1, i)` round trips (default pool).
 *   spawn N:     N sequential createSubprocessExec("echo", ...) + communicate().
 * A third argument `built` loads aiots from dist/ (what `npm install aiots` gives) instead of src/.
 * A 10% warm-up runs first, untimed. Prints the harness report line (ms).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type * as Aiots from "../../src/index.ts";
import { report } from "../suite.ts";

const mode = process.argv[2] ?? "to-thread";
const n = Number(process.argv[3] ?? (mode === "spawn" ? 200 : 10_000));
const built = process.argv[4] === "built";

// Why a built peer: loading aiots from src/*.ts (Node strips the types of every module) leaves a
// process about 30 MB larger, and every fork of a larger process costs more. That is a cost of
// running from source, not of aiots, and a user who installed the package never pays it.
function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

async function loadAiots(): Promise<typeof Aiots> {
  if (!built) return import("../../src/index.ts");
  const entry = new URL("../../dist/index.js", import.meta.url);
  if (statSync(entry).mtimeMs < newestSourceMtime(new URL("../../src", import.meta.url).pathname)) {
    throw new Error("dist/ is older than src/: run `npm run build` before benchmarking the built aiots");
  }
  return (await import(entry.href)) as typeof Aiots;
}

const { PIPE, createSubprocessExec, run, toThread } = await loadAiots();

async function roundTrips(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const value = await toThread((x: number) => x + 1, i);
    if (value !== i + 1) throw new Error(`wrong result ${value}`);
  }
}

async function spawns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const proc = await createSubprocessExec("echo", ["hello"], { stdout: PIPE });
    const [out] = await proc.communicate();
    if (out!.toString() !== "hello\n" || proc.returncode !== 0) throw new Error("unexpected child output");
  }
}

const work = mode === "spawn" ? spawns : roundTrips;
const ms = await run(async () => {
  await work(Math.max(1, Math.floor(n / 10)));
  const start = performance.now();
  await work(n);
  return performance.now() - start;
});
report(ms);
