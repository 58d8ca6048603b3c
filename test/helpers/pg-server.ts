/**
 * A private PostgreSQL cluster for the tests and benchmarks: initdb into a temporary directory (as
 * the `postgres` OS user when this process is root, since initdb refuses root), the postmaster on a
 * free port on 127.0.0.1 with its unix socket inside that directory, stopped by PID. Works outside
 * any aiots loop.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./redis.ts";

/** Where Debian's postgresql package puts the server binaries (override with AIOTS_PG_BIN). */
export function pgBinDir(): string {
  if (process.env["AIOTS_PG_BIN"] !== undefined) return process.env["AIOTS_PG_BIN"];
  for (const version of ["17", "16", "15", "14", "13"]) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, "postgres"))) return dir;
  }
  return "/usr/lib/postgresql/15/bin";
}

/** Whether the PostgreSQL server binaries are installed. */
export function havePostgres(): boolean {
  return existsSync(join(pgBinDir(), "initdb")) && existsSync(join(pgBinDir(), "postgres"));
}

// The uid/gid to run the cluster as: postgres's when we are root, else our own.
function clusterUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string): number => {
    const out = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
    if (out.status !== 0) throw new Error("running as root, but there is no `postgres` OS user (apt-get install postgresql, scripts/install-test-deps.sh)");
    return Number(out.stdout.trim());
  };
  return { uid: id("-u"), gid: id("-g") };
}

/** A postmaster this test process started; `stop()` it (it is also killed when the process exits). */
export class PgServer {
  readonly port: number;
  readonly dir: string;
  readonly #user: { uid: number; gid: number } | null;
  #child: ChildProcess | null = null;

  private constructor(port: number, dir: string, user: { uid: number; gid: number } | null) {
    this.port = port;
    this.dir = dir;
    this.#user = user;
  }

  /** initdb into a fresh temporary directory and start the server; resolves once it accepts queries. */
  static async start(): Promise<PgServer> {
    if (!havePostgres()) throw new Error(`no PostgreSQL server in ${pgBinDir()} (apt-get install postgresql, scripts/install-test-deps.sh)`);
    const user = clusterUser();
    const dir = mkdtempSync(join(tmpdir(), "aiots-pg-"));
    if (user !== null) chownSync(dir, user.uid, user.gid);
    const init = spawnSync(
      join(pgBinDir(), "initdb"),
      ["-D", join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
      { cwd: dir, encoding: "utf8", ...(user ?? {}) },
    );
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed (status ${init.status}): ${init.stderr || init.stdout}`);
    }
    const server = new PgServer(await freePort(), dir, user);
    await server.#spawn();
    return server;
  }

  /** `postgresql://postgres@127.0.0.1:<port>/postgres`. */
  get dsn(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** The postmaster's PID. */
  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error("postgres is not running");
    return pid;
  }

  /** Stops the server (SIGINT: fast shutdown; SIGKILL after 10 s) and removes its directory. */
  async stop(): Promise<void> {
    await this.#halt("SIGINT");
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Stops the server and starts it again on the same port and data: `"SIGINT"` is a fast shutdown
   * (sessions are terminated, committed data is kept), `"SIGQUIT"` an immediate one (crash recovery).
   */
  async restart(signal: "SIGINT" | "SIGQUIT" = "SIGINT"): Promise<void> {
    await this.#halt(signal);
    await this.#spawn();
  }

  async #halt(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async #spawn(): Promise<void> {
    const child = spawn(
      join(pgBinDir(), "postgres"),
      ["-D", join(this.dir, "data"), "-p", String(this.port), "-k", this.dir, "-c", "listen_addresses=127.0.0.1",
        "-c", "fsync=off", "-c", "max_connections=100", "-c", "log_min_messages=fatal", "-c", "logging_collector=off"],
      { cwd: this.dir, stdio: ["ignore", "ignore", "ignore"], ...(this.#user ?? {}) },
    );
    this.#child = child;
    const onExit = (): void => {
      if (child.exitCode === null) child.kill("SIGKILL");
    };
    process.once("exit", onExit);
    child.once("exit", () => process.off("exit", onExit));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited with status ${child.exitCode} while starting (data in ${this.dir})`);
      if (await this.#answers()) return;
      if (Date.now() > deadline) throw new Error(`postgres did not accept queries on port ${this.port} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #answers(): Promise<boolean> {
    const client = new pg.Client({ host: "127.0.0.1", port: this.port, user: "postgres", database: "postgres", connectionTimeoutMillis: 2000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("select 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** Runs one query on a fresh plain node-postgres connection (for checks beside the code under test). */
  async query<Row extends Record<string, unknown> = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.dsn });
    client.on("error", () => {});
    await client.connect();
    try {
      return (await client.query<Row>(sql, values)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  }
}
