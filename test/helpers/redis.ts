/**
 * A private redis-server for the tests: a free port, a temporary directory (AOF with fsync on every
 * write, so a restart keeps everything acknowledged), stopped by PID. Works outside any aiots loop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A redis-server this test process started; `stop()` it (it also stops when the process exits). */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly #persistence: boolean;
  #child: ChildProcess | null = null;

  private constructor(port: number, dir: string, persistence: boolean) {
    this.port = port;
    this.dir = dir;
    this.#persistence = persistence;
  }

  /**
   * Starts a server on a free port in a fresh temporary directory; resolves once it accepts
   * connections. `persistence: false` (benchmarks) keeps nothing on disk.
   */
  static async start(options: { persistence?: boolean } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), "aiots-redis-")), options.persistence ?? true);
    await server.#spawn();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's PID (to signal it). */
  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error("redis-server is not running");
    return pid;
  }

  /** Stops the server (SIGTERM, SIGKILL after 5 s) and, unless `keepData`, removes its directory. */
  async stop(keepData = false): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (!keepData) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops the server with SIGKILL (no shutdown save: only the AOF survives) and starts it again on the same port and data. */
  async restart(): Promise<void> {
    const child = this.#child;
    if (child !== null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGKILL");
      await exited;
    }
    this.#child = null;
    await this.#spawn();
  }

  /** SIGSTOP: the server stops answering (connections stay open). */
  pause(): void {
    process.kill(this.pid, "SIGSTOP");
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    process.kill(this.pid, "SIGCONT");
  }

  async #spawn(): Promise<void> {
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--daemonize", "no", "--loglevel", "warning",
        ...(this.#persistence ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"])],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    this.#child = child;
    const onExit = (): void => {
      if (child.exitCode === null) child.kill("SIGKILL");
    };
    process.once("exit", onExit);
    child.once("exit", () => process.off("exit", onExit));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with status ${child.exitCode} (is it installed? scripts/install-test-deps.sh)`);
      if (await answersPing(this.port)) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// Whether a Redis answers PING on the port (+PONG, not -LOADING while it replays the AOF).
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.write("PING\r\n");
  });
}
