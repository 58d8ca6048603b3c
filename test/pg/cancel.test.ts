// Cancellation in aiots/pg against a real PostgreSQL: a cancelled task or an expired timeout()
// cancels the statement on the server at once (pg_stat_activity shows no backend still running it),
// the connection comes back usable, a transaction is rolled back, acquire() is FIFO and cancellable,
// and close() never hangs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { run, createTask, sleep, timeout, CancelledError, TimeoutError } from "../../src/index.ts";
import { createPool, ConnectionDoesNotExistError, InterfaceError, QueryCanceledError, type Connection } from "../../src/pg.ts";
import { PgServer } from "../helpers/pg-server.ts";
import { rejection } from "../helpers/index.ts";

let server: PgServer;

// Backends (other than the checker's) running a statement that matches `pattern`, waited for up to
// `seconds` to become none: the server needs a moment to act on the CancelRequest.
async function activeLike(pattern: string, seconds = 3): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const rows = await server.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where state = 'active' and query like $1 and pid <> pg_backend_pid()",
      [pattern],
    );
    const n = rows[0]!.n;
    if (n === 0 || Date.now() > deadline) return n;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function idleInTransaction(): Promise<number> {
  const rows = await server.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%'");
  return rows[0]!.n;
}

void describe("aiots/pg cancellation", () => {
  before(async () => {
    server = await PgServer.start();
  });
  after(async () => {
    await server.stop();
  });

  void test("timeout() around select pg_sleep(10) returns at once, the backend stops, the connection is reused", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 1 });
      const pid = await pool.fetchVal<number>("select pg_backend_pid()");
      const started = performance.now();
      const error = await rejection(timeout(0.3, () => pool.fetch("select pg_sleep(10) /* timeout-case */")));
      const elapsed = (performance.now() - started) / 1000;
      assert.ok(error instanceof TimeoutError, String(error));
      assert.ok(elapsed < 3, `timeout() returned after ${elapsed} s`);
      assert.equal(await activeLike("%timeout-case%"), 0);
      // Same single connection, usable, idle.
      assert.equal(await pool.fetchVal("select pg_backend_pid()"), pid);
      assert.equal(pool.getSize(), 1);
      assert.equal(await pool.fetchVal("select 'fine'"), "fine");
    });
  });

  void test("task.cancel() interrupts the await with CancelledError and cancels on the server", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 2 });
      await using conn = await pool.acquire();
      const task = createTask(() => conn.fetch("select pg_sleep(10) /* cancel-case */"));
      await sleep(0.2);
      assert.equal(await activeLike("%cancel-case%", 0), 1);
      const started = performance.now();
      task.cancel();
      const error = await rejection(task);
      assert.ok(error instanceof CancelledError);
      assert.ok(performance.now() - started < 1000);
      assert.equal(await activeLike("%cancel-case%"), 0);
      // The same acquired connection waits for the server to settle, then runs the next statement.
      assert.equal(await conn.fetchVal("select 1 + 1"), 2);
    });
  });

  void test("a query cancelled inside a transaction rolls the transaction back", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 1 });
      await pool.execute("create table cancelled_tx (v int)");
      const error = await rejection(timeout(0.3, () => pool.transaction(async (tx) => {
        await tx.execute("insert into cancelled_tx values (1)");
        await tx.execute("select pg_sleep(10)");
      })));
      assert.ok(error instanceof TimeoutError);
      assert.equal(await pool.fetchVal("select count(*)::int from cancelled_tx"), 0);
      assert.equal(await idleInTransaction(), 0);
      // Cancelled in the body's own aiots await (not a query): rolled back too.
      const task = createTask(() => pool.transaction(async (tx) => {
        await tx.execute("insert into cancelled_tx values (2)");
        await sleep(10);
      }));
      await sleep(0.2);
      task.cancel();
      assert.ok((await rejection(task)) instanceof CancelledError);
      assert.equal(await pool.fetchVal("select count(*)::int from cancelled_tx"), 0);
      assert.equal(await idleInTransaction(), 0);
    });
  });

  void test("commandTimeout cancels on the server; statement_timeout gives QueryCanceledError", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 1, commandTimeout: 0.3 });
      const started = performance.now();
      const error = await rejection(pool.fetch("select pg_sleep(10) /* command-timeout */"));
      assert.ok(error instanceof TimeoutError);
      assert.match(error.message, /commandTimeout \(0\.3 s\)/);
      assert.ok(performance.now() - started < 3000);
      assert.equal(await activeLike("%command-timeout%"), 0);
      const serverSide = await rejection(pool.transaction(async (tx) => {
        await tx.execute("set local statement_timeout = 100");
        await tx.execute("select pg_sleep(0.25)");
      }));
      assert.ok(serverSide instanceof QueryCanceledError, String(serverSide));
      assert.equal(serverSide.sqlstate, "57014");
      assert.equal(await pool.fetchVal("select 3"), 3);
    });
  });

  void test("acquire() waits in FIFO order when the pool is exhausted; a cancelled waiter takes no connection", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 0, maxSize: 2 });
      const a = await pool.acquire();
      const b = await pool.acquire();
      assert.equal(pool.getSize(), 2);
      const order: string[] = [];
      const waiter = (name: string) => createTask(async () => {
        const conn = await pool.acquire();
        order.push(name);
        await sleep(0.05);
        await conn.release();
      });
      const tasks = ["w1", "w2", "w3", "w4"].map(waiter);
      await sleep(0.1);
      assert.equal(pool.getWaitingCount(), 4);
      tasks[1]!.cancel();
      await sleep(0.05);
      assert.equal(pool.getWaitingCount(), 3);
      await a.release();
      await sleep(0.02);
      await b.release();
      for (const [i, t] of tasks.entries()) {
        if (i === 1) assert.ok((await rejection(t)) instanceof CancelledError);
        else await timeout(5, () => t);
      }
      assert.deepEqual(order, ["w1", "w3", "w4"]);
      assert.equal(pool.getSize(), 2);
      assert.equal(pool.getIdleSize(), 2);
      // timeout() around acquire() on an exhausted pool.
      const held = [await pool.acquire(), await pool.acquire()];
      await assert.rejects(timeout(0.1, () => pool.acquire()), TimeoutError);
      assert.equal(pool.getWaitingCount(), 0);
      for (const c of held) await c.release();
      assert.equal(pool.getIdleSize(), 2);
    });
  });

  void test("close() waits for released connections, then terminates what still runs, within its timeout", async () => {
    await run(async () => {
      const pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 2 });
      let conn: Connection | null = await pool.acquire();
      const running = createTask(async () => {
        try {
          return await conn!.fetch("select pg_sleep(30) /* close-case */");
        } finally {
          conn = null;
        }
      });
      const waiter = createTask(async () => {
        await pool.acquire();
        return await pool.acquire();
      });
      await sleep(0.3);
      const started = performance.now();
      await pool.close(0.5);
      const elapsed = (performance.now() - started) / 1000;
      assert.ok(elapsed >= 0.4 && elapsed < 4, `close(0.5) took ${elapsed} s`);
      const error = await rejection(running);
      assert.ok(error instanceof ConnectionDoesNotExistError, String(error));
      const waited = await rejection(waiter);
      assert.ok(waited instanceof InterfaceError);
      assert.match(waited.message, /pool was closed while this task waited/);
      assert.equal(await activeLike("%close-case%"), 0);
      assert.equal(pool.getSize(), 0);
      await assert.rejects(pool.acquire(), /the pool is closed/);
      await pool.close();
      // A pool whose connections come back in time closes at once, gracefully.
      const quick = await createPool({ dsn: server.dsn, minSize: 2 });
      const held = await quick.acquire();
      createTask(async () => {
        await sleep(0.1);
        await held.release();
      });
      const t0 = performance.now();
      await quick.close(10);
      assert.ok(performance.now() - t0 < 3000);
      assert.equal(quick.getSize(), 0);
    });
  });
});
