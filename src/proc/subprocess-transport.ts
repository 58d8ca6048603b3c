/**
 * The low-level subprocess API: `loop.subprocessExec` / `loop.subprocessShell` start a child process
 * and connect it to a `SubprocessProtocol` through a `SubprocessTransport` (asyncio's
 * base_subprocess and unix_events), on Node's `child_process`.
 *
 * How it works: the child is spawned with each of stdin/stdout/stderr set to a pipe, /dev/null, an
 * inherited fd, or (stderr only) the same pipe as stdout. Node cannot give two child fds the same
 * pipe, so `stderr: STDOUT` with a piped stdout runs the program through `/bin/sh -c 'exec "$0"
 * "$@" 2>&1'`: `exec` replaces the shell, so the pid, argv and exit status are the program's own.
 * Once Node reports the spawn, `connectionMade(transport)` is called and the pipes start delivering
 * `pipeDataReceived(fd, data)`. The child's exit sets the return code (`-N` for signal N) and calls
 * `processExited()`; when it has exited *and* every pipe has closed, `connectionLost(null)` is called
 * and `wait()` resolves, as in asyncio 3.12+ (so no output is lost to a race with the exit).
 * @module
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { accessSync, constants as fsConstants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AbstractEventLoop,
  type Future,
  CancelledError,
  Protocol,
  SubprocessProtocol,
  type BaseProtocol,
  SubprocessTransport,
  type BaseTransport,
  type ExtraInfo,
  type ExtraInfoName,
  resourceClosed,
  resourceOpened,
  outsideTasks,
  type StdioSpec,
  type SubprocessOptions,
} from "../core/index.ts";
import { ReadPipeTransport, WritePipeTransport } from "../net/index.ts";
import { signalName, signalNumber } from "./internal/signal-names.ts";
import { resolveId } from "./internal/user-ids.ts";

/** Connect the child's stream to a new pipe (subprocess.PIPE). */
export const PIPE = -1;
/** For `stderr`: send the child's stderr where its stdout goes (subprocess.STDOUT). */
export const STDOUT = -2;
/** Connect the child's stream to /dev/null (subprocess.DEVNULL). */
export const DEVNULL = -3;


type ProtocolFactory<P> = () => P;

// Transports whose child may still run, per loop. Closing the loop kills those children (asyncio's
// transports do it when collected), so a forgotten child can neither outlive the program's loop
// nor keep Node alive through its handles.
const liveTransports = new WeakMap<AbstractEventLoop, Set<ChildProcessTransport>>();

/**
 * Called by `loop.close()`: closes the subprocess transports still open, killing their children.
 * In debug mode each one is reported, as asyncio's ResourceWarning("unclosed transport").
 */
export function closeSubprocessTransports(loop: AbstractEventLoop): void {
  const live = liveTransports.get(loop);
  if (live === undefined) return;
  liveTransports.delete(loop);
  for (const transport of live) {
    if (loop.getDebug() && transport.getReturncode() === null && !transport.isClosing()) {
      loop.callExceptionHandler({ message: `${String(transport)} was still running when its loop closed: killed it (await proc.wait(), or use await using)` });
    }
    transport.close();
  }
}

/** The body of `loop.subprocessExec`. */
export async function subprocessExec<P extends SubprocessProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  program: string,
  args: readonly string[],
  options: SubprocessOptions = {},
): Promise<[ChildProcessTransport, P]> {
  const what = "subprocessExec()";
  if (typeof program !== "string" || program === "") throw new TypeError(`${what} takes the program to run as a non-empty string`);
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new TypeError(`${what} takes the arguments as an array of strings, e.g. subprocessExec(factory, "ls", ["-l"])`);
  }
  return await start(loop, protocolFactory, { program, args, shell: false }, options, what);
}

/** The body of `loop.subprocessShell`: runs `cmd` with `/bin/sh -c`. */
export async function subprocessShell<P extends SubprocessProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  cmd: string,
  options: SubprocessOptions = {},
): Promise<[ChildProcessTransport, P]> {
  if (typeof cmd !== "string" || cmd === "") throw new TypeError("subprocessShell() takes the shell command as a non-empty string");
  return await start(loop, protocolFactory, { program: cmd, args: [], shell: true }, options, "subprocessShell()");
}

interface Command {
  program: string;
  args: readonly string[];
  shell: boolean;
}

function stdioEntry(what: string, name: string, spec: StdioSpec | undefined, fallback: StdioSpec): "pipe" | "ignore" | "inherit" | number {
  const value = spec === undefined ? fallback : spec;
  if (value === null) return "inherit";
  if (value === PIPE) return "pipe";
  if (value === DEVNULL) return "ignore";
  if (value === STDOUT) {
    if (name !== "stderr") throw new TypeError(`${what}: STDOUT is only valid for stderr`);
    return "inherit"; // resolved by the caller
  }
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  throw new TypeError(`${what}: ${name} must be PIPE, DEVNULL, ${name === "stderr" ? "STDOUT, " : ""}a file descriptor or null, got ${String(value)}`);
}

/** Finds `program` as execvp would, so a missing one gets an error naming it (and its PATH). */
function checkProgram(program: string, cwd: string, env: Readonly<Record<string, string | undefined>>): void {
  const candidates = program.includes("/")
    ? [isAbsolute(program) ? program : resolve(cwd, program)]
    : (env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter).map((dir) => join(resolve(cwd, dir || "."), program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return;
    } catch {
      // not this one
    }
  }
  throw programNotFound(program, program.includes("/") ? null : (env["PATH"] ?? ""));
}

function programNotFound(program: string, path: string | null): Error {
  const where = path === null ? "" : path === "" ? " (PATH is empty)" : " in any directory of PATH";
  const error = new Error(`cannot run "${program}": no such executable file${where}; check the program name, or pass its absolute path`);
  Object.assign(error, { code: "ENOENT", path: program });
  return error;
}

/** The session, process group and user/group options as Node's `spawn` takes them. */
function spawnIdentity(what: string, options: SubprocessOptions): { detached?: true; uid?: number; gid?: number } {
  const { startNewSession, processGroup } = options;
  if (startNewSession !== undefined && typeof startNewSession !== "boolean") throw new TypeError(`${what}: startNewSession must be true or false, got ${String(startNewSession)}`);
  if (processGroup !== undefined && processGroup !== null) {
    if (!Number.isInteger(processGroup) || processGroup < 0) throw new TypeError(`${what}: processGroup must be 0 (a new group led by the child) or null, got ${String(processGroup)}`);
    if (processGroup !== 0) {
      throw new Error(`${what}: processGroup ${processGroup}: Node's spawn cannot join an existing process group; use processGroup: 0 (a new group led by the child) or startNewSession: true`);
    }
  }
  const identity: { detached?: true; uid?: number; gid?: number } = {};
  // Node's `detached` is setsid(): a new session whose new group is led by the child.
  if (startNewSession === true || processGroup === 0) identity.detached = true;
  const uid = resolveId(what, "user", options.user);
  const gid = resolveId(what, "group", options.group);
  if (uid !== undefined) identity.uid = uid;
  if (gid !== undefined) identity.gid = gid;
  return identity;
}

async function start<P extends SubprocessProtocol>(
  loop: AbstractEventLoop,
  protocolFactory: ProtocolFactory<P>,
  command: Command,
  options: SubprocessOptions,
  what: string,
): Promise<[ChildProcessTransport, P]> {
  if (typeof protocolFactory !== "function") throw new TypeError(`${what} takes a protocol factory, e.g. () => new MyProtocol()`);
  const stdin = stdioEntry(what, "stdin", options.stdin, PIPE);
  const stdout = stdioEntry(what, "stdout", options.stdout, PIPE);
  let stderr = stdioEntry(what, "stderr", options.stderr, PIPE);
  const mergeStderr = options.stderr === STDOUT;
  // stderr follows stdout: the same fd, /dev/null, or the inherited stdout (fd 1).
  if (mergeStderr) stderr = stdout === "inherit" ? 1 : stdout;
  const cwd = options.cwd === undefined ? process.cwd() : options.cwd instanceof URL ? fileURLToPath(options.cwd) : String(options.cwd);
  const env = options.env ?? process.env;
  if (options.cwd !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(cwd).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw Object.assign(new Error(`${what}: the working directory "${cwd}" does not exist or is not a directory`), { code: "ENOENT", path: cwd });
  }
  let file: string;
  let argv: string[];
  const pipeMerge = mergeStderr && stdout === "pipe";
  if (command.shell) {
    file = "/bin/sh";
    argv = ["-c", pipeMerge ? `exec 2>&1\n${command.program}` : command.program];
  } else if (pipeMerge) {
    checkProgram(command.program, cwd, env);
    file = "/bin/sh";
    argv = ["-c", 'exec "$0" "$@" 2>&1', command.program, ...command.args];
  } else {
    file = command.program;
    argv = [...command.args];
  }
  if (pipeMerge) stderr = "ignore";
  const stdio: StdioOptions = [stdin, stdout, stderr];
  const identity = spawnIdentity(what, options);
  // The protocol first: a factory that throws must not leave a child running.
  const protocol = protocolFactory();
  const child = outsideTasks(() => spawn(file, argv, { cwd, env, stdio, ...identity }));
  const transport = new ChildProcessTransport(loop, child, protocol);
  const started = loop.createFuture<void>();
  const onSpawn = (): void => {
    child.removeListener("error", onError);
    transport.connected();
    // After connectionMade (scheduled by connected()), as asyncio: the caller gets a connected protocol.
    loop.callSoon(() => {
      if (!started.done()) started.setResult(undefined);
    });
  };
  const onError = (error: NodeJS.ErrnoException): void => {
    child.removeListener("spawn", onSpawn);
    let failure: Error = error;
    if (error.code === "ENOENT") {
      failure = programNotFound(command.program, command.program.includes("/") ? null : (env["PATH"] ?? ""));
      failure.cause = error;
    }
    if (!started.done()) started.setException(failure);
  };
  child.once("spawn", onSpawn);
  child.once("error", onError);
  try {
    await started;
  } catch (error) {
    // Cancelled while starting: the child must not run on unowned.
    if (error instanceof CancelledError) transport.close();
    throw error;
  }
  return [transport, protocol];
}

/**
 * The protocol of one pipe (asyncio's ReadSubprocessPipeProto / WriteSubprocessPipeProto): reports
 * the pipe's events to the subprocess transport, and stdin's flow control to the subprocess protocol.
 */
class PipeProtocol extends Protocol {
  readonly #owner: ChildProcessTransport;
  readonly #fd: number;

  constructor(owner: ChildProcessTransport, fd: number) {
    super();
    this.#owner = owner;
    this.#fd = fd;
  }

  override dataReceived(data: Buffer): void {
    this.#owner.pipeData(this.#fd, data);
  }

  override connectionLost(exc: Error | null): void {
    this.#owner.pipeLost(this.#fd, exc);
  }

  override pauseWriting(): void {
    this.#owner.protocol.pauseWriting();
  }

  override resumeWriting(): void {
    this.#owner.protocol.resumeWriting();
  }
}

/**
 * A running child and its pipes, connected to a `SubprocessProtocol` (asyncio's subprocess
 * transport). Created by `loop.subprocessExec` / `loop.subprocessShell`.
 * @example
 * ```ts
 * import { run, getRunningLoop, SubprocessProtocol } from "aiots";
 * await run(async () => {
 *   const [transport] = await getRunningLoop().subprocessExec(() => new SubprocessProtocol(), "sleep", ["10"]);
 *   transport.terminate();
 *   transport.close();
 * });
 * ```
 */
export class ChildProcessTransport extends SubprocessTransport {
  readonly loop: AbstractEventLoop;
  readonly #child: ChildProcess;
  #protocol: SubprocessProtocol;
  readonly #pid: number;
  // null while the child runs; its exit code, or -N once it died of signal N.
  #returncode: number | null = null;
  // fd -> pipe transport; a pipe stays listed after it closes (see #lostPipes).
  readonly #pipes = new Map<number, ReadPipeTransport | WritePipeTransport>();
  readonly #lostPipes = new Set<number>();
  #connected = false;
  #closed = false;
  // Set once connectionLost has been called (exited and every pipe closed).
  #finished = false;
  #exitWaiters: Future<number>[] = [];

  constructor(loop: AbstractEventLoop, child: ChildProcess, protocol: SubprocessProtocol) {
    super();
    this.loop = loop;
    this.#child = child;
    this.#protocol = protocol;
    this.#pid = child.pid ?? -1;
    child.on("exit", (code, signal) => this.#exited(code, signal));
  }

  /** @internal Called once Node reports the spawn: the protocol learns of the transport, pipes start. */
  connected(): void {
    // Closed while starting (the creating task was cancelled): the child is being killed, nobody listens.
    if (this.#closed) return;
    const child = this.#child;
    let live = liveTransports.get(this.loop);
    if (live === undefined) liveTransports.set(this.loop, (live = new Set()));
    live.add(this);
    resourceOpened(this, "subprocess transport", this.loop);
    if (child.stdin !== null) this.#pipes.set(0, new WritePipeTransport(this.loop, child.stdin, new PipeProtocol(this, 0)));
    if (child.stdout !== null) this.#pipes.set(1, new ReadPipeTransport(this.loop, child.stdout, new PipeProtocol(this, 1)));
    if (child.stderr !== null) this.#pipes.set(2, new ReadPipeTransport(this.loop, child.stderr, new PipeProtocol(this, 2)));
    this.#call(() => this.#protocol.connectionMade(this));
    this.#connected = true;
    this.#tryFinish();
  }

  get protocol(): BaseProtocol {
    return this.#protocol;
  }

  getPid(): number {
    return this.#pid;
  }

  getReturncode(): number | null {
    return this.#returncode;
  }

  getPipeTransport(fd: number): BaseTransport | null {
    return this.#pipes.get(fd) ?? null;
  }

  getExtraInfo<K extends ExtraInfoName, D = undefined>(_name: K, defaultValue?: D): ExtraInfo[K] | D {
    return defaultValue as D;
  }

  /** The Node `ChildProcess` under this transport. */
  getChildProcess(): ChildProcess {
    return this.#child;
  }

  isClosing(): boolean {
    return this.#closed;
  }

  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as SubprocessProtocol;
  }

  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  /**
   * Sends `signal` (a name such as `"SIGTERM"` or a number) to the child. Does nothing once it has
   * exited.
   * @throws {TypeError|RangeError} for an unknown signal; {Error} once the transport is closed.
   */
  sendSignal(signal: number | string): void {
    const name = signalName("sendSignal()", signal);
    if (this.#closed && this.#returncode === null) throw new Error("sendSignal(): the subprocess transport is closed");
    if (this.#returncode !== null) return;
    this.#child.kill(name);
  }

  terminate(): void {
    this.sendSignal("SIGTERM");
  }

  kill(): void {
    this.sendSignal("SIGKILL");
  }

  /** Closes the pipes and kills the child if it is still running (asyncio semantics). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pipe of this.#pipes.values()) pipe.close();
    resourceClosed(this);
    if (this.#returncode === null && this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
  }

  /** Resolves to the return code once the child has exited and its pipes have closed. */
  wait(): Future<number> {
    const waiter = this.loop.createFuture<number>();
    if (this.#finished) waiter.setResult(this.#returncode!);
    else this.#exitWaiters.push(waiter);
    return waiter;
  }

  override toString(): string {
    const state = this.#returncode !== null ? `returncode=${this.#returncode}` : this.#closed ? "closed" : "running";
    const pipes = [...this.#pipes.keys()].filter((fd) => !this.#lostPipes.has(fd)).join(",");
    return `<ChildProcessTransport pid=${this.#pid} ${state}${pipes === "" ? "" : ` pipes=${pipes}`}>`;
  }

  /** @internal */
  pipeData(fd: number, data: Buffer): void {
    this.#call(() => this.#protocol.pipeDataReceived(fd, data));
  }

  /** @internal */
  pipeLost(fd: number, exc: Error | null): void {
    this.#lostPipes.add(fd);
    this.#call(() => this.#protocol.pipeConnectionLost(fd, exc));
    this.#tryFinish();
  }

  #exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.#returncode = code ?? -signalNumber(signal ?? "");
    this.#call(() => this.#protocol.processExited());
    this.#tryFinish();
  }

  #tryFinish(): void {
    if (this.#finished || !this.#connected || this.#returncode === null) return;
    if (this.#lostPipes.size < this.#pipes.size) return;
    this.#finished = true;
    liveTransports.get(this.loop)?.delete(this);
    resourceClosed(this);
    this.#call(() => {
      try {
        this.#protocol.connectionLost(null);
      } finally {
        const waiters = this.#exitWaiters;
        this.#exitWaiters = [];
        for (const waiter of waiters) if (!waiter.done()) waiter.setResult(this.#returncode!);
      }
    });
  }

  // Protocol callbacks run as loop callbacks (FIFO, so in the order Node reported the events), never
  // in whatever async context the Node stream event arrives in; an error goes to the exception handler.
  #call(fn: () => void): void {
    if (!this.loop.isClosed()) this.loop.callSoon(fn);
  }
}
