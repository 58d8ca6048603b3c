// aiots/pg against a real PostgreSQL: asyncpg's methods, the type mapping, transactions, LISTEN,
// errors with the server's message, and bad input.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { run, createTask, sleep, timeout } from "../../src/index.ts";
import {
  connect,
  createPool,
  ConnectionDoesNotExistError,
  InterfaceError,
  PostgresError,
  PostgresSyntaxError,
  UniqueViolationError,
  UndefinedTableError,
  type Notification,
} from "../../src/pg.ts";
import { PgServer } from "../helpers/pg-server.ts";
import { freePort } from "../helpers/redis.ts";
import { rejection } from "../helpers/index.ts";

let server: PgServer;

void describe("aiots/pg", () => {
  before(async () => {
    server = await PgServer.start();
  });
  after(async () => {
    await server.stop();
  });

  void test("fetch, fetchRow, fetchVal, execute (command status), typed rows", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 3 });
      assert.equal(await pool.execute("create table items (id serial primary key, name text unique not null, n int)"), "CREATE TABLE");
      assert.equal(await pool.execute("insert into items (name, n) values ($1, $2)", "a", 1), "INSERT 0 1");
      assert.equal(await pool.execute("insert into items (name, n) values ('b', 2), ('c', 3)"), "INSERT 0 2");
      assert.equal(await pool.execute("update items set n = n + 1 where n >= $1", 2), "UPDATE 2");
      const rows = await pool.fetch<{ id: number; name: string; n: number }>("select id, name, n from items order by id");
      assert.deepEqual(rows.map((r) => [r.name, r.n]), [["a", 1], ["b", 3], ["c", 4]]);
      assert.equal(typeof rows[0]!.id, "number");
      assert.deepEqual(await pool.fetchRow("select name from items where n = $1", 3), { name: "b" });
      assert.equal(await pool.fetchRow("select name from items where n = $1", 99), null);
      assert.equal(await pool.fetchVal<string>("select name from items where n = $1", 4), "c");
      assert.equal(await pool.fetchVal("select 1 where false"), null);
      // Several statements without arguments: the last status, as asyncpg.
      assert.equal(await pool.execute("delete from items where n = 1; delete from items where n > 2"), "DELETE 2");
      assert.equal(await pool.execute("drop table items"), "DROP TABLE");
    });
  });

  void test("type mapping: json/jsonb, bytea, timestamps, numeric, int8, arrays, null", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1 });
      const when = new Date("2026-01-02T03:04:05.678Z");
      const row = await pool.fetchRow<Record<string, unknown>>(
        `select $1::jsonb as doc, $2::json as j, $3::bytea as bin, $4::timestamptz as at, 12.3400::numeric as dec,
                9007199254740993::int8 as big, array[1, 2]::int8[] as bigs, 2::int4 as small, true as flag, null::text as nothing`,
        JSON.stringify({ a: [1, "x"] }), JSON.stringify([1, 2]), Buffer.from([0, 255, 7]), when,
      );
      assert.deepEqual(row!["doc"], { a: [1, "x"] });
      assert.deepEqual(row!["j"], [1, 2]);
      assert.deepEqual(row!["bin"], Buffer.from([0, 255, 7]));
      assert.ok(row!["at"] instanceof Date);
      assert.equal(row!["at"].getTime(), when.getTime());
      assert.equal(row!["dec"], "12.3400");
      assert.equal(row!["big"], 9007199254740993n);
      assert.deepEqual(row!["bigs"], [1n, 2n]);
      assert.equal(row!["small"], 2);
      assert.equal(row!["flag"], true);
      assert.equal(row!["nothing"], null);
      assert.equal(await pool.fetchVal("select count(*) from pg_class where relname = $1", "pg_class"), 1n);
      // bigint parameters go in exactly.
      assert.equal(await pool.fetchVal("select $1::int8 + 1", 9007199254740993n), 9007199254740994n);
    });
  });

  void test("errors carry the server's message and SQLSTATE; one bad statement does not affect the next", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 1 });
      const syntax = await rejection(pool.fetch("selec 1"));
      assert.ok(syntax instanceof PostgresSyntaxError, String(syntax));
      assert.ok(syntax instanceof PostgresError);
      assert.equal(syntax.sqlstate, "42601");
      assert.equal(syntax.message, 'syntax error at or near "selec"');
      assert.equal(syntax.position, 1);
      const missing = await rejection(pool.fetch("select * from no_such_table"));
      assert.ok(missing instanceof UndefinedTableError);
      assert.equal(missing.message, 'relation "no_such_table" does not exist');
      await pool.execute("create table uniq (k text primary key)");
      await pool.execute("insert into uniq values ('x')");
      const dup = await rejection(pool.execute("insert into uniq values ($1)", "x"));
      assert.ok(dup instanceof UniqueViolationError);
      assert.equal(dup.sqlstate, "23505");
      assert.equal(dup.constraintName, "uniq_pkey");
      assert.equal(dup.tableName, "uniq");
      assert.equal(dup.detail, "Key (k)=(x) already exists.");
      const custom = await rejection(pool.execute("do $$ begin raise exception 'nope' using errcode = '22012', hint = 'try 2'; end $$"));
      assert.ok(custom instanceof PostgresError);
      assert.equal(custom.sqlstate, "22012");
      assert.equal(custom.hint, "try 2");
      // The single connection is fine afterwards.
      assert.equal(await pool.fetchVal("select 41 + 1"), 42);
      assert.equal(pool.getSize(), 1);
    });
  });

  void test("transaction: commit returns the body's value, rollback on error, nested = savepoint", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1 });
      await pool.execute("create table tx (v text)");
      await using conn = await pool.acquire();
      const value = await conn.transaction(async (tx) => {
        await tx.execute("insert into tx values ('kept')");
        return 7;
      });
      assert.equal(value, 7);
      const failure = await rejection(conn.transaction(async (tx) => {
        await tx.execute("insert into tx values ('gone')");
        throw new Error("body failed");
      }));
      assert.equal((failure as Error).message, "body failed");
      await conn.transaction(async (tx) => {
        await tx.execute("insert into tx values ('outer')");
        const inner = await rejection(tx.transaction(async (sp) => {
          await sp.execute("insert into tx values ('inner')");
          await sp.execute("select 1/0");
        }));
        assert.ok(inner instanceof PostgresError && inner.sqlstate === "22012");
        const nested = await tx.transaction(async (sp) => {
          await sp.execute("insert into tx values ('inner2')");
          return "savepoint released";
        });
        assert.equal(nested, "savepoint released");
      });
      assert.deepEqual((await conn.fetch<{ v: string }>("select v from tx order by v")).map((r) => r.v), ["inner2", "kept", "outer"]);
      // An error caught inside the body leaves the transaction aborted: COMMIT rolls back, said loudly.
      const aborted = await rejection(conn.transaction(async (tx) => {
        await tx.execute("insert into tx values ('lost')");
        await rejection(tx.execute("select 1/0"));
      }));
      assert.ok(aborted instanceof InterfaceError);
      assert.match(aborted.message, /rolled the transaction back at COMMIT/);
      assert.equal(await conn.fetchVal("select count(*)::int from tx where v = 'lost'"), 0);
      const isolation = await conn.transaction(async (tx) => tx.fetchVal("show transaction_isolation"), { isolation: "serializable", readonly: true });
      assert.equal(isolation, "serializable");
      // pool.transaction takes a connection for the body.
      assert.equal(await pool.transaction(async (tx) => tx.fetchVal("select count(*)::int from tx")), 3);
    });
  });

  void test("listen yields { channel, payload, pid } and UNLISTENs when the loop breaks", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 2 });
      await using conn = await pool.acquire();
      const events = conn.listen("news");
      await events.ready;
      const senderPid = await pool.fetchVal<number>("select pg_backend_pid()");
      createTask(async () => {
        await pool.execute("select pg_notify('other', 'ignored')");
        await pool.execute("select pg_notify('news', 'one')");
        await pool.execute("notify news, 'two'");
      });
      const got: Notification[] = [];
      for await (const n of events) {
        got.push(n);
        if (got.length === 2) break;
      }
      assert.deepEqual(got.map((n) => [n.channel, n.payload]), [["news", "one"], ["news", "two"]]);
      assert.equal(typeof got[0]!.pid, "number");
      assert.ok(got[0]!.pid > 0);
      void senderPid;
      assert.deepEqual(await conn.fetch("select pg_listening_channels() as c"), []);
      // A listener waiting with nothing to read is cancellable.
      const waiting = conn.listen("quiet");
      await assert.rejects(timeout(0.2, async () => {
        for await (const n of waiting) void n;
      }), { name: "TimeoutError" });
      await waiting.return();
      assert.deepEqual(await conn.fetch("select pg_listening_channels() as c"), []);
    });
  });

  void test("init runs on each new connection; serverSettings are set at login; idle connections above minSize expire", async () => {
    await run(async () => {
      let inits = 0;
      await using pool = await createPool({
        dsn: server.dsn,
        minSize: 1,
        maxSize: 3,
        maxInactiveConnectionLifetime: 0.2,
        serverSettings: { application_name: "aiots test", search_path: "custom, public" },
        init: async (conn) => {
          inits++;
          await conn.execute("create schema if not exists custom");
        },
      });
      assert.equal(inits, 1);
      assert.equal(await pool.fetchVal("show application_name"), "aiots test");
      assert.equal(await pool.fetchVal("show search_path"), "custom, public");
      const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
      assert.equal(inits, 3);
      assert.equal(pool.getSize(), 3);
      for (const conn of held) await conn.release();
      await sleep(0.4);
      await pool.fetchVal("select 1"); // the pool prunes when it is used
      assert.equal(pool.getSize(), 1);
      await assert.rejects(createPool({ dsn: server.dsn, minSize: 1, init: () => Promise.reject(new Error("init failed")) }), /init failed/);
    });
  });

  void test("released connections refuse use; one statement at a time per connection; repr", async () => {
    await run(async () => {
      await using pool = await createPool({ dsn: server.dsn, minSize: 1, maxSize: 2 });
      const conn = await pool.acquire();
      assert.match(inspect(conn), /^<Connection pid=\d+ idle>$/);
      const first = conn.fetch("select pg_sleep(0.3)");
      const second = await rejection(conn.fetch("select 1"));
      assert.ok(second instanceof InterfaceError);
      assert.match(second.message, /another operation is in progress on this connection/);
      await first;
      await conn.release();
      await conn.release();
      const used = await rejection(conn.fetch("select 1"));
      assert.ok(used instanceof InterfaceError);
      assert.match(used.message, /released back to the pool/);
      assert.match(inspect(pool), /^<Pool open .*127\.0\.0\.1.* size=1 idle=1 min=1 max=2 waiting=0>$/);
    });
  });

  void test("connect(): a single connection; bad DSNs and unreachable servers get clear errors", async () => {
    await run(async () => {
      await using conn = await connect(server.dsn);
      assert.equal(await conn.execute("select 1"), "SELECT 1");
      await assert.rejects(createPool("mysql://x"), { name: "TypeError", message: /the DSN must be a string starting with postgresql:\/\// });
      await assert.rejects(createPool({ dsn: server.dsn, minSize: 3, maxSize: 2 }), /minSize must be an integer from 0 to maxSize \(2\), got 3/);
      const port = await freePort();
      const refused = await rejection(connect({ dsn: `postgresql://postgres:secret@127.0.0.1:${port}/postgres`, connectTimeout: 2 }));
      assert.ok(refused instanceof InterfaceError);
      assert.match(refused.message, /cannot connect to PostgreSQL at postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres .*ECONNREFUSED.*is the server running there/);
      const noDb = await rejection(connect(`postgresql://postgres@127.0.0.1:${server.port}/no_such_db`));
      assert.ok(noDb instanceof PostgresError);
      assert.equal(noDb.sqlstate, "3D000");
      await conn.close();
      assert.ok((await rejection(conn.fetch("select 1"))) instanceof InterfaceError);
      void sleep;
      void ConnectionDoesNotExistError;
    });
  });
});
