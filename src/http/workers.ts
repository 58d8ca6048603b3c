/**
 * `serveForever({ workers })`: serving from several processes that share one port (Sanic's
 * `workers=`, node:cluster's model).
 *
 * How it works: the program is run again in each worker (same script, arguments and Node flags,
 * with `AIOTS_WORKER_ID` set); there `serveForever` serves as usual and reports "ready" over the
 * IPC channel. The primary serves nothing: it starts the workers, prints a line when each is
 * listening and when each exits, replaces a worker that dies (waiting 0.1 s, doubling up to 5 s
 * while replacements keep dying before they are ready: no restart storm), and gives up with an
 * error when a worker never gets ready five times in a row (a bad port, a crash at import). SIGTERM
 * and SIGINT stop every worker gracefully (each gets SIGTERM, and SIGKILL only if it is still alive
 * `shutdownTimeout` + 5 s later); then the primary returns. SIGHUP replaces the workers one at a
 * time, each new one ready before the old one stops. A worker whose primary dies (the IPC channel
 * closes) shuts itself down, so no worker outlives the primary.
 *
 * Sharing the port: node:cluster's round-robin by default (the primary holds the listening socket,
 * accepts and hands each connection to a worker), or SO_REUSEPORT (`AIOTS_PORT_SHARING=reuseport`,
 * Linux and Node 22.12+: each worker listens, the kernel spreads connections). bench/suites/redis.ts
 * measures both; on the 2-core test machine under load they came out even within the noise (each
 * ahead in one of two runs), so the tie is broken by behaviour: under SO_REUSEPORT Linux resets the
 * connections still queued on a worker's socket when it closes (a restart drops a few), under
 * node:cluster the primary's socket outlives every worker, and it works on every platform.
 * @module
 */
import cluster from "node:cluster";
import { fork, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { CancelledError, currentTask, getRunningLoop, waitFuture } from "../core/index.ts";
import type { HttpServer, ServeOptions } from "./server.ts";

/** The worker options of `serveForever()`. */
export interface WorkerOptions {
  /**
   * Serve from this many worker processes sharing the port (`"auto"`: `os.availableParallelism()`).
   * The program runs again in each worker; the primary only supervises. Unset: serve in this process.
   */
  workers?: number | "auto";
  /** @internal Share the port with SO_REUSEPORT (set in workers). */
  reusePort?: boolean;
}

type ServeForeverOptions = ServeOptions & WorkerOptions & { onReady?: (server: HttpServer) => void };

/** How the workers share the port: "reuseport" (SO_REUSEPORT) or "cluster" (node:cluster round-robin). */
export type PortSharing = "reuseport" | "cluster";

/**
 * How the workers share the port: node:cluster unless `AIOTS_PORT_SHARING=reuseport` asks for
 * SO_REUSEPORT where Node has it (Linux, Node 22.12+ / 23.1+).
 */
export function portSharing(): PortSharing {
  if (process.env.AIOTS_PORT_SHARING !== "reuseport") return "cluster";
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  const hasReusePort = process.platform === "linux" && (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));
  return hasReusePort ? "reuseport" : "cluster";
}

/** The number of workers `workers` asks for. @throws {RangeError} unless a positive integer or "auto". */
export function workerCount(workers: unknown): number {
  if (workers === "auto") return availableParallelism();
  if (typeof workers !== "number" || !Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`serveForever(): workers must be a positive integer or "auto", got ${String(workers)}`);
  }
  return workers;
}

/**
 * In a worker: serves with `serveOne` and tells the primary once listening. In the primary: runs
 * the supervisor until a signal, then returns once every worker has exited.
 * @throws {RangeError} for a bad `workers`. {Error} when the program cannot be re-run (no script
 * file) or a worker never starts. {CancelledError} if the calling task is cancelled (after the
 * workers stopped).
 */
export async function serveWorkers(serveOne: (options: ServeForeverOptions) => Promise<void>, options: ServeForeverOptions): Promise<void> {
  const count = workerCount(options.workers);
  const id = process.env.AIOTS_WORKER_ID;
  if (id !== undefined && typeof process.send === "function") return serveAsWorker(serveOne, options);
  const script = process.argv[1];
  if (script === undefined || script === "" || script === "-") {
    throw new Error("serveForever({ workers }) runs the program again in each worker, so it must be started from a script file (node app.ts), not -e or a REPL");
  }
  const sharing = portSharing();
  const host = options.host ?? "127.0.0.1";
  // Checked in the primary either way, so that a busy port fails at once rather than in five workers.
  const port = await claimPort(host, options.port ?? 0);
  const supervisor = new Supervisor(count, sharing, script, host, port, (options.shutdownTimeout ?? 10) + 5);
  await supervisor.run();
}

async function serveAsWorker(serveOne: (options: ServeForeverOptions) => Promise<void>, options: ServeForeverOptions): Promise<void> {
  const port = Number(process.env.AIOTS_WORKER_PORT ?? options.port ?? 0);
  // The primary is gone (killed): stop gracefully rather than serve as an orphan.
  const onDisconnect = (): void => {
    process.kill(process.pid, "SIGTERM");
  };
  process.once("disconnect", onDisconnect);
  try {
    await serveOne({
      ...options,
      port,
      workers: undefined,
      reusePort: portSharing() === "reuseport",
      onReady: (server) => {
        const [host, boundPort] = server.sockets[0]!.getsockname() as [string, number];
        process.send?.({ aiots: "worker-ready", host, port: boundPort });
        options.onReady?.(server);
      },
    });
  } finally {
    process.off("disconnect", onDisconnect);
    if (process.connected) {
      if (portSharing() === "cluster") await drainHandoffs();
      process.disconnect();
    }
  }
}

// Under node:cluster the primary accepts and sends each connection to a worker over the IPC
// channel. A connection it sent before it learnt that this worker closed its server is still on
// the way; node:cluster's worker side answers it with "not accepted" and the primary gives it to
// another worker, but only while the channel is open: a worker that disconnects (exits) first
// loses it, and the primary keeps that connection open and unanswered for ever (the client hangs).
// So before disconnecting, the worker asks the primary for an answer: the channel is ordered both
// ways, so once the answer is here every connection sent before it has been answered.
function drainHandoffs(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off("message", onMessage);
      process.off("disconnect", done);
      resolve();
    };
    const onMessage = (message: unknown): void => {
      if (typeof message === "object" && message !== null && (message as { aiots?: unknown }).aiots === "drained") done();
    };
    // A primary that does not answer (killed) must not keep the worker alive.
    const timer = setTimeout(done, 2000);
    process.on("message", onMessage);
    process.once("disconnect", done);
    process.send?.({ aiots: "worker-draining" });
  });
}

// Checks the address can be bound (else a clear error now, not five failed workers) and picks a
// port for port 0 (every worker must bind the same one).
function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      reject(new Error(`serveForever({ workers }): cannot listen on ${host}:${port} (${error.code ?? error.message}); pick another port or stop what uses it`, { cause: error }));
    });
    probe.listen({ host, port, exclusive: true }, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => resolve(bound));
    });
  });
}

interface Slot {
  index: number;
  child: ChildProcess | null;
  // Replacements in a row that died before they were ready (drives the backoff and the give-up).
  failures: number;
}

const MAX_FAILED_STARTS = 5;

class Supervisor {
  readonly #slots: Slot[];
  readonly #sharing: PortSharing;
  readonly #script: string;
  readonly #host: string;
  readonly #port: number;
  readonly #killAfter: number;
  readonly #done = getRunningLoop().createFuture<void>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #live = new Set<ChildProcess>();
  #stopping = false;
  #error: Error | null = null;
  #rolling: Promise<void> | null = null;

  constructor(count: number, sharing: PortSharing, script: string, host: string, port: number, killAfter: number) {
    this.#slots = Array.from({ length: count }, (_, index) => ({ index: index + 1, child: null, failures: 0 }));
    this.#sharing = sharing;
    this.#script = script;
    this.#host = host;
    this.#port = port;
    this.#killAfter = killAfter;
  }

  async run(): Promise<void> {
    let signalled = false;
    const onStop = (): void => {
      signalled = true;
      this.#stop();
    };
    const onHup = (): void => {
      if (this.#rolling !== null) return;
      this.#rolling = this.#rollingRestart().finally(() => (this.#rolling = null));
    };
    // SIGINT too, even under run(): run() turns it into cancelling the main task, which the catch
    // below takes back, so that Ctrl-C stops the workers and serveForever returns normally.
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    process.on("SIGHUP", onHup);
    if (this.#sharing === "cluster") {
      cluster.setupPrimary({ exec: this.#script, args: process.argv.slice(2), execArgv: process.execArgv, silent: false });
    }
    log(`primary (pid ${process.pid}) starting ${this.#slots.length} worker${this.#slots.length === 1 ? "" : "s"} on http://${this.#host}:${this.#port} (${this.#sharing === "reuseport" ? "SO_REUSEPORT" : "node:cluster round-robin"})`);
    try {
      for (const slot of this.#slots) void this.#start(slot);
      try {
        await waitFuture(this.#done);
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        this.#stop();
        await this.#allExited();
        // Cancelled by run()'s own Ctrl-C handling for the SIGINT handled here: a normal stop.
        if (!(signalled && currentTask()?.uncancel() === 0)) throw error;
      }
      if (this.#error !== null) throw this.#error;
      log(`primary (pid ${process.pid}) stopped`);
    } finally {
      process.off("SIGTERM", onStop);
      process.off("SIGINT", onStop);
      process.off("SIGHUP", onHup);
      for (const timer of this.#timers) clearTimeout(timer);
    }
  }

  // Starts a worker for `slot`; resolves when it is ready (false if it exited first).
  #start(slot: Slot): Promise<boolean> {
    const env = { ...process.env, AIOTS_WORKER_ID: String(slot.index), AIOTS_WORKER_PORT: String(this.#port) };
    const child =
      this.#sharing === "cluster"
        ? cluster.fork(env).process
        : fork(this.#script, process.argv.slice(2), { execArgv: process.execArgv, env, stdio: "inherit" });
    slot.child = child;
    this.#live.add(child);
    return new Promise((resolve) => {
      let ready = false;
      child.on("message", (message: unknown) => {
        if (isDraining(message)) {
          // The worker's server is closed (the primary no longer sends it connections): answer, so
          // that it disconnects only once every connection sent to it before has been answered.
          if (child.connected) child.send({ aiots: "drained" }, () => {});
          return;
        }
        if (ready || !isReady(message)) return;
        ready = true;
        slot.failures = 0;
        log(`worker ${slot.index} (pid ${child.pid}) started, listening on http://${message.host}:${message.port}`);
        resolve(true);
      });
      child.once("exit", (code, signal) => {
        this.#live.delete(child);
        const how = signal !== null ? `signal ${signal}` : `code ${code}`;
        const current = slot.child === child;
        if (current) slot.child = null;
        if (!ready) resolve(false);
        if (this.#stopping || !current) {
          log(`worker ${slot.index} (pid ${child.pid}) exited (${how})`);
          this.#checkDone();
          return;
        }
        if (!ready) slot.failures += 1;
        if (slot.failures >= MAX_FAILED_STARTS) {
          log(`worker ${slot.index} (pid ${child.pid}) exited (${how}) before it was ready, ${slot.failures} times in a row: giving up`);
          this.#error ??= new Error(`serveForever({ workers }): worker ${slot.index} exited before it was ready ${slot.failures} times in a row (last: ${how}); see its output above`);
          this.#stop();
          return;
        }
        const delay = Math.min(0.1 * 2 ** Math.max(0, slot.failures - 1), 5);
        log(`worker ${slot.index} (pid ${child.pid}) exited (${how}); starting a new one in ${delay} s`);
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          if (!this.#stopping) void this.#start(slot);
        }, delay * 1000);
        this.#timers.add(timer);
      });
    });
  }

  // One worker at a time: start its replacement, wait until it listens, then stop the old one.
  async #rollingRestart(): Promise<void> {
    log("SIGHUP: restarting the workers one by one");
    for (const slot of this.#slots) {
      if (this.#stopping) return;
      const old = slot.child;
      if (!(await this.#start(slot))) continue;
      if (old !== null && old.exitCode === null && old.signalCode === null) {
        const exited = new Promise((resolve) => old.once("exit", resolve));
        old.kill("SIGTERM");
        await exited;
      }
    }
  }

  #stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const child of this.#live) child.kill("SIGTERM");
    const killer = setTimeout(() => {
      for (const child of this.#live) child.kill("SIGKILL");
    }, this.#killAfter * 1000);
    killer.unref();
    this.#timers.add(killer);
    this.#checkDone();
  }

  #checkDone(): void {
    if (this.#stopping && this.#live.size === 0 && !this.#done.done()) this.#done.setResult(undefined);
  }

  async #allExited(): Promise<void> {
    while (this.#live.size > 0) {
      const [child] = this.#live;
      await new Promise((resolve) => {
        if (child!.exitCode !== null || child!.signalCode !== null) resolve(undefined);
        else child!.once("exit", resolve);
      });
      this.#live.delete(child!);
    }
  }
}

function isReady(message: unknown): message is { aiots: string; host: string; port: number } {
  return typeof message === "object" && message !== null && (message as { aiots?: unknown }).aiots === "worker-ready";
}

function isDraining(message: unknown): boolean {
  return typeof message === "object" && message !== null && (message as { aiots?: unknown }).aiots === "worker-draining";
}

function log(line: string): void {
  process.stderr.write(`[aiots] ${line}\n`);
}
