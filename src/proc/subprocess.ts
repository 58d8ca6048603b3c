/**
 * High-level subprocesses (asyncio.subprocess): `createSubprocessExec`, `createSubprocessShell` and
 * `Process`, whose piped stdin/stdout/stderr are a `StreamWriter` and `StreamReader`s.
 *
 * How it works: a `SubprocessStreamProtocol` sits on the loop's subprocess transport, feeds each
 * output pipe into its reader (which pauses the pipe while it holds more than 2 x `limit` unread
 * bytes), and gives stdin's writer `drain()` through the transport's write flow control.
 * `communicate()` writes stdin, and reads stdout and stderr, concurrently, so neither side can fill
 * a pipe the other is waiting on. The transport is closed once the child has exited and every pipe
 * has closed.
 * @module
 */
import {
  type AbstractEventLoop,
  getRunningLoop,
  CancelledError,
  gather,
  inspectSymbol,
  SubprocessProtocol,
  type ReadTransport,
  type SubprocessTransport,
  type Transport,
  type SubprocessOptions,
} from "../core/index.ts";
import { StreamReader, StreamReaderProtocol, StreamWriter } from "../net/index.ts";
import { DEVNULL, PIPE, STDOUT } from "./subprocess-transport.ts";

export { PIPE, STDOUT, DEVNULL };
export type { StdioSpec } from "../core/index.ts";

/** Options of `createSubprocessExec` / `createSubprocessShell`. */
export interface CreateSubprocessOptions extends SubprocessOptions {
  /** Buffer limit of the stdout/stderr readers (default 64 KiB). */
  limit?: number;
}

/** The protocol behind a `Process`: each output pipe feeds a reader; stdin gets a writer with `drain()`. */
class SubprocessStreamProtocol extends SubprocessProtocol {
  readonly #loop: AbstractEventLoop;
  readonly #limit: number | undefined;
  stdin: StreamWriter | null = null;
  stdout: StreamReader | null = null;
  stderr: StreamReader | null = null;
  // Flow control and close tracking for stdin's writer (asyncio's FlowControlMixin role).
  #stdinProtocol: StreamReaderProtocol | null = null;
  #transport: SubprocessTransport | null = null;
  // Pipe fds still open; the transport is closed once this is empty and the child has exited.
  readonly #openPipes = new Set<number>();
  #exited = false;

  constructor(loop: AbstractEventLoop, limit: number | undefined) {
    super();
    this.#loop = loop;
    this.#limit = limit;
  }

  override connectionMade(transport: SubprocessTransport): void {
    this.#transport = transport;
    for (const fd of [1, 2] as const) {
      const pipe = transport.getPipeTransport(fd);
      if (pipe === null) continue;
      const reader = new StreamReader({ limit: this.#limit, loop: this.#loop });
      reader.setTransport(pipe as ReadTransport);
      if (fd === 1) this.stdout = reader;
      else this.stderr = reader;
      this.#openPipes.add(fd);
    }
    const input = transport.getPipeTransport(0);
    if (input !== null) {
      // stdin has nothing to read: its protocol's reader only satisfies StreamReaderProtocol.
      this.#stdinProtocol = new StreamReaderProtocol(new StreamReader({ loop: this.#loop }), null, this.#loop);
      this.stdin = new StreamWriter(input as Transport, this.#stdinProtocol, null, this.#loop);
      this.#openPipes.add(0);
    }
  }

  override pipeDataReceived(fd: number, data: Buffer): void {
    (fd === 1 ? this.stdout : fd === 2 ? this.stderr : null)?.feedData(data);
  }

  override pipeConnectionLost(fd: number, exc: Error | null): void {
    this.#openPipes.delete(fd);
    if (fd === 0) {
      this.#stdinProtocol?.connectionLost(exc);
    } else {
      const reader = fd === 1 ? this.stdout : this.stderr;
      if (exc === null) reader?.feedEof();
      else reader?.setException(exc);
    }
    this.#maybeCloseTransport();
  }

  override processExited(): void {
    this.#exited = true;
    this.#maybeCloseTransport();
  }

  override pauseWriting(): void {
    this.#stdinProtocol?.pauseWriting();
  }

  override resumeWriting(): void {
    this.#stdinProtocol?.resumeWriting();
  }

  #maybeCloseTransport(): void {
    if (this.#openPipes.size === 0 && this.#exited) this.#transport?.close();
  }
}

/**
 * A child process started by `createSubprocessExec` or `createSubprocessShell` (asyncio.subprocess.Process).
 *
 * `stdin` is a `StreamWriter` and `stdout`/`stderr` are `StreamReader`s when set to `PIPE`, else
 * `null`. Disposing the process (`await using`) kills a child that is still running and reaps it.
 * @example
 * ```ts
 * import { run, createSubprocessExec, PIPE } from "aiots";
 * await run(async () => {
 *   await using proc = await createSubprocessExec("ls", ["-l"], { stdout: PIPE });
 *   const [out] = await proc.communicate();
 *   console.log(proc.returncode, out!.toString());
 * });
 * ```
 */
export class Process implements AsyncDisposable {
  readonly #transport: SubprocessTransport;
  readonly pid: number;
  readonly stdin: StreamWriter | null;
  readonly stdout: StreamReader | null;
  readonly stderr: StreamReader | null;

  /** @internal Use `createSubprocessExec` / `createSubprocessShell`. */
  constructor(transport: SubprocessTransport, protocol: SubprocessStreamProtocol) {
    this.#transport = transport;
    this.pid = transport.getPid();
    this.stdin = protocol.stdin;
    this.stdout = protocol.stdout;
    this.stderr = protocol.stderr;
  }

  /** The exit status: `null` while running, the exit code, or `-N` if the child died of signal N. */
  get returncode(): number | null {
    return this.#transport.getReturncode();
  }

  /**
   * Waits for the child to exit and resolves to its return code. Cancelling the wait leaves the
   * child running; a later `wait()` still reaps it. With `stdout: PIPE` and nobody reading, a child
   * writing more than the pipe and reader buffers hold blocks forever: use `communicate()`.
   */
  async wait(): Promise<number> {
    return await this.#transport.wait();
  }

  /**
   * Writes `input` to stdin (then closes it), reads stdout and stderr to EOF, all at once, and waits
   * for the child to exit. Resolves to `[stdout, stderr]`, each `null` unless piped. Cancelling it
   * leaves the child running.
   * @throws {TypeError} if `input` is given but stdin is not `PIPE`.
   */
  async communicate(input?: Uint8Array | null): Promise<[Buffer | null, Buffer | null]> {
    if (input !== undefined && input !== null) {
      if (!(input instanceof Uint8Array)) throw new TypeError("communicate() takes the input as a Buffer or Uint8Array (encode text with Buffer.from(text))");
      if (this.stdin === null) throw new TypeError("communicate(input) needs the process started with stdin: PIPE");
    }
    const [, stdout, stderr] = await gather(this.#feedStdin(input ?? null), this.#readAll(1), this.#readAll(2));
    await this.wait();
    return [stdout, stderr];
  }

  /**
   * Sends `signal` (`"SIGTERM"`, `"SIGHUP"`, a number...) to the child; nothing once it has exited.
   * @throws {TypeError|RangeError} for an unknown signal.
   */
  sendSignal(signal: number | string): void {
    this.#transport.sendSignal(signal);
  }

  /** Sends SIGTERM. */
  terminate(): void {
    this.#transport.terminate();
  }

  /** Sends SIGKILL. */
  kill(): void {
    this.#transport.kill();
  }

  /** Kills the child if it is still running, and waits for it to be reaped. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.returncode === null) this.kill();
    this.stdin?.close();
    await this.wait();
  }

  toString(): string {
    const state = this.returncode === null ? "running" : `returncode=${this.returncode}`;
    return `<Process ${this.pid} ${state}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  async #feedStdin(input: Uint8Array | null): Promise<null> {
    const stdin = this.stdin;
    if (stdin === null) return null;
    try {
      if (input !== null && input.byteLength > 0) {
        stdin.write(input);
        await stdin.drain();
      }
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      // The child exited or closed its stdin without reading it all: ignored, as asyncio ignores
      // BrokenPipeError and ConnectionResetError here.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EPIPE" && code !== "ECONNRESET") throw error;
    }
    stdin.close();
    return null;
  }

  async #readAll(fd: 1 | 2): Promise<Buffer | null> {
    const reader = fd === 1 ? this.stdout : this.stderr;
    if (reader === null) return null;
    const data = await reader.read();
    this.#transport.getPipeTransport(fd)?.close();
    return data;
  }
}

async function createProcess(
  start: (loop: AbstractEventLoop, factory: () => SubprocessStreamProtocol, options: SubprocessOptions) => Promise<[SubprocessTransport, SubprocessStreamProtocol]>,
  options: CreateSubprocessOptions,
): Promise<Process> {
  const loop = getRunningLoop();
  const { limit, ...rest } = options;
  const spawnOptions: SubprocessOptions = { stdin: null, stdout: null, stderr: null, ...rest };
  const [transport, protocol] = await start(loop, () => new SubprocessStreamProtocol(loop, limit), spawnOptions);
  return new Process(transport, protocol);
}

/**
 * Starts `program` with `args` (no shell) and resolves to a `Process` (asyncio.create_subprocess_exec).
 * `stdin`/`stdout`/`stderr` default to `null` (inherited); set them to `PIPE` to talk to the child.
 * @throws {Error} (code `ENOENT`) naming the program when it does not exist; {TypeError} for bad options.
 * @example
 * ```ts
 * import { run, createSubprocessExec, PIPE } from "aiots";
 * await run(async () => {
 *   const proc = await createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
 *   const [out] = await proc.communicate(Buffer.from("hello"));
 *   console.log(out!.toString()); // "hello"
 * });
 * ```
 */
export async function createSubprocessExec(program: string, args: readonly string[] = [], options: CreateSubprocessOptions = {}): Promise<Process> {
  return await createProcess((loop, factory, opts) => loop.subprocessExec(factory, program, args, opts), options);
}

/**
 * Runs `cmd` with `/bin/sh -c` and resolves to a `Process` (asyncio.create_subprocess_shell). Quote
 * any untrusted text yourself, or use `createSubprocessExec`.
 * @example
 * ```ts
 * import { run, createSubprocessShell, PIPE } from "aiots";
 * await run(async () => {
 *   const proc = await createSubprocessShell("echo $HOME | wc -c", { stdout: PIPE });
 *   console.log((await proc.stdout!.read()).toString());
 *   await proc.wait();
 * });
 * ```
 */
export async function createSubprocessShell(cmd: string, options: CreateSubprocessOptions = {}): Promise<Process> {
  return await createProcess((loop, factory, opts) => loop.subprocessShell(factory, cmd, opts), options);
}
