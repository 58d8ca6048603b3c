/**
 * aiots peer of the subprocess suite.
 *   to-thread N: N sequential `toThread((x) => x + 1, i)` round trips (default pool).
 *   spawn N:     N sequential createSubprocessExec("echo", ...) + communicate().
 * A 10% warm-up runs first, untimed. Prints the harness report line (ms).
 */
import { PIPE, createSubprocessExec, run, toThread } from "../../src/index.ts";
import { report } from "../suite.ts";

const mode = process.argv[2] ?? "to-thread";
const n = Number(process.argv[3] ?? (mode === "spawn" ? 200 : 10_000));

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
