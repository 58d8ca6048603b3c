/**
 * The code each `ThreadPoolExecutor` worker thread runs. `workerMain` is sent to the worker by its
 * source text (`eval: true`), so it must be self-contained: no imports, only globals. That keeps the
 * worker independent of where aiots is installed and of whether it runs from `.ts` or built `.js`.
 *
 * Protocol: the pool posts one `JobMessage` at a time; the worker answers with one `ResultMessage`.
 */

/** What the pool sends: a job and its arguments. */
export interface JobMessage {
  id: number;
  /**
   * A function job: `key` names its source; `source` (a function expression) comes along only the
   * first time a worker sees that key. Otherwise a module job: the module URL and an export name.
   */
  key?: number;
  source?: string;
  module?: string;
  export?: string;
  args: unknown[];
  /** Transfer the ArrayBuffers found in the result instead of copying them. */
  transferResult?: boolean;
}

/** What the worker answers. */
export interface ResultMessage {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: unknown;
  /** The error's class name when structured clone would lose it. */
  errorName?: string;
}

/* eslint-disable @typescript-eslint/no-unsafe-function-type -- compiled job functions are untyped by nature */
function workerMain(): void {
  const { parentPort, isMarkedAsUntransferable } = process.getBuiltinModule("node:worker_threads");
  const port = parentPort!;
  // Compiled functions by source key: a job sent 10k times is sent and compiled once per worker.
  const compiled = new Map<number, Function>();

  function compile(key: number, source: string | undefined): Function {
    let fn = compiled.get(key);
    if (fn === undefined) {
      if (source === undefined) throw new Error(`aiots executor: worker has no source for job key ${key}`);
      // Indirect eval: compiled in the global scope, where a self-contained function needs nothing else.
      fn = (0, eval)(source) as Function;
      compiled.set(key, fn);
    }
    return fn;
  }

  async function load(message: JobMessage): Promise<Function> {
    if (message.key !== undefined) return compile(message.key, message.source);
    const namespace = (await import(message.module!)) as Record<string, unknown>;
    const fn = namespace[message.export!];
    if (typeof fn !== "function") {
      const exported = Object.keys(namespace).join(", ") || "nothing";
      throw new TypeError(`module job: ${message.module} has no function export "${message.export}" (it exports: ${exported})`);
    }
    return fn;
  }

  function transferables(value: unknown, found: Set<ArrayBuffer>, depth: number): void {
    if (value === null || typeof value !== "object" || depth > 4) return;
    if (value instanceof ArrayBuffer) {
      if (!isMarkedAsUntransferable(value)) found.add(value);
    } else if (ArrayBuffer.isView(value)) {
      const buffer = value.buffer;
      // A small Buffer may be a slice of Node's shared pool, which must not be moved.
      if (buffer instanceof ArrayBuffer && value.byteLength === buffer.byteLength && !isMarkedAsUntransferable(buffer)) found.add(buffer);
    } else if (Array.isArray(value)) {
      for (const item of value as unknown[]) transferables(item, found, depth + 1);
    } else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const item of Object.values(value)) transferables(item, found, depth + 1);
    }
  }

  async function runJob(message: JobMessage): Promise<void> {
    let reply: ResultMessage;
    let transfer: ArrayBuffer[] = [];
    try {
      const fn = await load(message);
      const value: unknown = await (fn as (...args: unknown[]) => unknown)(...message.args);
      if (message.transferResult === true) {
        const found = new Set<ArrayBuffer>();
        transferables(value, found, 0);
        transfer = [...found];
      }
      reply = { id: message.id, ok: true, value };
    } catch (error) {
      if (error instanceof ReferenceError && message.key !== undefined) {
        error.message +=
          " (the job runs in a worker thread and sees only its arguments and globals: pass the value as an argument, or use a module job)";
      }
      reply = { id: message.id, ok: false, error, errorName: error instanceof Error ? error.name : undefined };
    }
    try {
      port.postMessage(reply, transfer);
    } catch (cloneError) {
      // The result (or error) cannot cross threads, e.g. a function or a class instance with methods.
      const text = cloneError instanceof Error ? cloneError.message : String(cloneError);
      port.postMessage({ id: message.id, ok: false, error: new TypeError(`the job's result cannot be sent back from the worker thread: ${text}`) });
    }
  }

  port.on("message", (message: JobMessage) => void runJob(message));
}
/* eslint-enable @typescript-eslint/no-unsafe-function-type */

/** The script a worker is started with (`new Worker(WORKER_SOURCE, { eval: true })`). */
export const WORKER_SOURCE = `(${workerMain.toString()})();`;
