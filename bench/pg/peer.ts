/**
 * PostgreSQL peer: `peer.ts <aiots|pg|asyncpg> <roundtrips|fetch> [n]` starts a private cluster
 * (test/helpers/pg-server.ts), then runs the work and prints the harness's result line (ms).
 *
 * roundtrips: `n` (10,000) sequential `select $1::int as v` through a pool of 1 connection, after
 * 500 for warm-up. fetch: one `select` of `n` (100,000) rows (int4, text, float8), after one
 * warm-up fetch. aiots: `pool.fetch` of aiots/pg; pg: node-postgres's own `Pool.query` (the raw
 * driver, rows as objects too); asyncpg: Python's asyncpg `pool.fetch` (bench/pg/asyncpg_peer.py),
 * under /usr/bin/python3. Extras: the server's CPU seconds during the run.
 */
import { spawnSync } from "node:child_process";
import pg from "pg";
import { run } from "../../src/index.ts";
import { createPool } from "../../src/pg.ts";
import { processCpuSeconds } from "../harness/measure.ts";
import { PgServer } from "../../test/helpers/pg-server.ts";

const [kind = "aiots", work = "roundtrips", nArg] = process.argv.slice(2);
const n = Number(nArg ?? (work === "fetch" ? 100_000 : 10_000));
const ROUND_TRIP = "select $1::int as v";
const FETCH = "select i, 'row number ' || i as name, i * 0.5::float8 as x from generate_series(1, $1::int) as i";

function check(rows: number, expected: number): void {
  if (rows !== expected) throw new Error(`${kind} ${work}: ${rows} rows, expected ${expected}`);
}

const server = await PgServer.start();
try {
  const cpuBefore = processCpuSeconds(server.pid);
  let ms: number;
  if (kind === "aiots") {
    ms = await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 1 });
      if (work === "roundtrips") {
        for (let i = 0; i < 500; i++) await pool.fetch(ROUND_TRIP, i);
        const start = performance.now();
        for (let i = 0; i < n; i++) check((await pool.fetch<{ v: number }>(ROUND_TRIP, i))[0]!.v, i);
        return performance.now() - start;
      }
      check((await pool.fetch(FETCH, n)).length, n);
      const start = performance.now();
      check((await pool.fetch(FETCH, n)).length, n);
      return performance.now() - start;
    });
  } else if (kind === "pg") {
    const pool = new pg.Pool({ connectionString: server.dsn, max: 1 });
    if (work === "roundtrips") {
      for (let i = 0; i < 500; i++) await pool.query(ROUND_TRIP, [i]);
      const start = performance.now();
      for (let i = 0; i < n; i++) check((await pool.query<{ v: number }>(ROUND_TRIP, [i])).rows[0]!.v, i);
      ms = performance.now() - start;
    } else {
      check((await pool.query(FETCH, [n])).rows.length, n);
      const start = performance.now();
      check((await pool.query(FETCH, [n])).rows.length, n);
      ms = performance.now() - start;
    }
    await pool.end();
  } else if (kind === "asyncpg") {
    const out = spawnSync("/usr/bin/python3", ["bench/pg/asyncpg_peer.py", server.dsn, work, String(n)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (out.status !== 0) throw new Error(`asyncpg peer exited with status ${out.status}`);
    ms = (JSON.parse(out.stdout.trim().split("\n").at(-1)!) as { value: number }).value;
  } else {
    throw new TypeError(`kind must be aiots, pg or asyncpg, got ${kind}`);
  }
  const serverCpu = processCpuSeconds(server.pid) - cpuBefore;
  process.stdout.write(`${JSON.stringify({ value: ms, rssBytes: process.resourceUsage().maxRSS * 1024, extra: { serverCpu, n } })}\n`);
} finally {
  await server.stop();
}
