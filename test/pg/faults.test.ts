// Faults aiots/pg must survive against a real PostgreSQL: the server restarting while the pool is
// busy (clear errors, then the pool heals), a backend terminated under an idle connection, and a
// storm of 1,000 statements cancelled at random moments (afterwards no broken connection, no
// transaction left open, every committed row present).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { run, createTask, gather, sleep, timeout, CancelledError, TimeoutError } from "../../src/index.ts";
import { createPool, AdminShutdownError, ConnectionDoesNotExistError, InterfaceError, PostgresError } from "../../src/pg.ts";
import { PgServer } from "../helpers/pg-server.ts";

let server: PgServer;

// A deterministic pseudo-random sequence (mulberry32), so a failing storm can be replayed.
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

void describe("aiots/pg faults", () => {
  before(async () => {
    server = await PgServer.start();
  });
  after(async () => {
    await server.stop();
  });

  void test("the server restarts while the pool is busy: queries fail with a clear error, then the pool heals", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 4, maxSize: 4, connectTimeout: 5 });
      await pool.execute("create table restart_rows (v int)");
      const errors: unknown[] = [];
      let ok = 0;
      let stop = false;
      const workers = Array.from({ length: 4 }, (_, w) => createTask(async () => {
        for (let i = 0; !stop && i < 100_000; i++) {
          try {
            await pool.execute("insert into restart_rows select $1::int from pg_sleep(0.01)", w);
            ok++;
          } catch (error) {
            errors.push(error);
            await sleep(0.05);
          }
        }
      }));
      await sleep(0.5);
      const okBefore = ok;
      assert.ok(okBefore > 0);
      await server.restart("SIGINT");
      // Healing: new statements succeed again within a bounded time.
      const healedBy = Date.now() + 20_000;
      const okAtRestart = ok;
      while (ok < okAtRestart + 20 && Date.now() < healedBy) await sleep(0.05);
      stop = true;
      await timeout(20, () => gather(...workers));
      assert.ok(ok >= okAtRestart + 20, `the pool did not heal: ${ok - okAtRestart} statements after the restart`);
      assert.ok(errors.length > 0, "the restart was not seen by any statement");
      for (const error of errors) {
        // Terminated sessions (57P01), lost connections and refused connects, each saying what happened.
        const clear = error instanceof AdminShutdownError || error instanceof ConnectionDoesNotExistError ||
          (error instanceof InterfaceError && /cannot connect to PostgreSQL at .*is the server running there/.test(error.message)) ||
          (error instanceof PostgresError && error.sqlstate === "57P03");
        assert.ok(clear, `unclear error after a restart: ${String(error)}`);
      }
      // Every connection in the pool works now.
      const conns = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()));
      for (const conn of conns) assert.equal(await conn.fetchVal("select 1"), 1);
      for (const conn of conns) await conn.release();
      assert.ok(pool.getSize() <= 4);
    });
  });

  void test("a backend terminated under an idle connection is replaced, not handed out", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 2, maxSize: 2 });
      const pids = (await Promise.all([pool.acquire(), pool.acquire()]));
      const before = pids.map((c) => c.pid);
      for (const c of pids) await c.release();
      await server.query("select pg_terminate_backend(pid) from pg_stat_activity where pid = any($1::int[])", [before]);
      await sleep(0.3);
      // Both idle connections saw their session end and left the pool; new ones are opened on demand.
      for (let i = 0; i < 4; i++) assert.equal(await pool.fetchVal("select 'ok'"), "ok");
      const now = await pool.fetchVal<number>("select pg_backend_pid()");
      assert.ok(!before.includes(now!));
    });
  });

  void test("a listener whose backend is terminated ends its loop with ConnectionDoesNotExistError", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 2 });
      const conn = await pool.acquire();
      const events = conn.listen("doomed");
      await events.ready;
      const pid = conn.pid;
      const loop = createTask(async () => {
        for await (const n of events) void n;
      });
      await sleep(0.1);
      await server.query("select pg_terminate_backend($1)", [pid]);
      const error = await timeout(10, async () => {
        try {
          await loop;
          return null;
        } catch (e) {
          return e;
        }
      });
      assert.ok(error instanceof ConnectionDoesNotExistError, String(error));
      assert.match(error.message, /listen\("doomed"\): the connection was lost/);
      await conn.release();
      assert.equal(await pool.fetchVal("select 'healed'"), "healed");
    });
  });

  void test("a storm of 1,000 statements cancelled at random moments leaves no broken connection, no open transaction, every committed row", async () => {
    await run(async () => {
      const maxSize = 6;
      await using pool = await createPool({ dsn: server.dsn, minSize: 2, maxSize });
      await pool.execute("create table storm (id int primary key)");
      const next = random(15);
      const committed = new Set<number>();
      const attempted = new Set<number>();
      const outcomes = { committed: 0, cancelled: 0, other: [] as unknown[] };
      const one = async (id: number): Promise<void> => {
        const kind = Math.floor(next() * 4);
        // Deadlines of 0-30 ms land inside the statements (each takes a few ms, up to 20 ms of
        // pg_sleep, plus the wait for one of 6 connections), so about half are cancelled on any
        // machine. At 0-120 ms only ~10% were, and a fast machine fell under the guard below.
        const limit = next() * 0.03;
        try {
          await timeout(limit, async () => {
            if (kind === 0) {
              await pool.fetch("select pg_sleep($1::float8)", next() * 0.02);
            } else if (kind === 1) {
              await pool.fetchVal("select $1::int", id);
            } else {
              attempted.add(id);
              await pool.transaction(async (tx) => {
                await tx.execute("insert into storm values ($1)", id);
                if (kind === 3) await tx.execute("select pg_sleep($1::float8)", next() * 0.02);
                await tx.transaction(async (sp) => sp.execute("select 1"));
              });
              committed.add(id);
            }
          });
          outcomes.committed++;
        } catch (error) {
          if (error instanceof TimeoutError || error instanceof CancelledError) outcomes.cancelled++;
          else outcomes.other.push(error);
        }
      };
      const concurrency = 12;
      let started = 0;
      const lanes = Array.from({ length: concurrency }, () => createTask(async () => {
        while (started < 1000) await one(started++);
      }));
      await timeout(120, () => gather(...lanes));
      assert.deepEqual(outcomes.other, [], "only cancellations and successes");
      assert.ok(outcomes.cancelled > 100, `too few cancellations to mean anything: ${outcomes.cancelled}`);
      assert.ok(outcomes.committed > 100, `too few successes: ${outcomes.committed}`);
      assert.ok(committed.size >= 20, `too few committed transactions: ${committed.size}`);
      // Let background clean-ups finish (each bounded), then check the server.
      const settledBy = Date.now() + 15_000;
      while (pool.getIdleSize() < pool.getSize() && Date.now() < settledBy) await sleep(0.05);
      const activity = await server.query<{ state: string | null; query: string }>(
        "select state, query from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
      );
      assert.deepEqual(activity.filter((a) => a.state !== "idle"), [], "every backend of the pool is idle, none in a transaction");
      assert.ok(activity.length <= maxSize);
      const present = new Set((await pool.fetch<{ id: number }>("select id from storm")).map((r) => r.id));
      for (const id of committed) assert.ok(present.has(id), `committed row ${id} is missing`);
      for (const id of present) assert.ok(attempted.has(id), `row ${id} was never inserted`);
      // Every connection the pool holds is usable.
      const conns = await Promise.all(Array.from({ length: maxSize }, () => pool.acquire()));
      const answers = await Promise.all(conns.map((c, i) => c.fetchVal<number>("select $1::int", i)));
      assert.deepEqual(answers, conns.map((_, i) => i));
      for (const c of conns) await c.release();
    });
  });
});
