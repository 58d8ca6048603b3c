/**
 * The code each `ThreadPoolExecutor` worker thread runs. `workerMain` is sent to the worker by its
 * source text (`eval: true`), so it must be self-contained: no imports, only globals. That keeps the
 * worker independent of where aiots is installed and of whether it runs from `.ts` or built `.js`.
 *
 * Protocol: the pool posts one `JobMessage` at a time; the worker answers with one `ResultMessage`.
 * Structured clone turns a Buffer into a plain Uint8Array, so each side lists where the Buffers were
 * (`buffers`, paths into the value) and the other side makes them Buffers again, without copying.
 * Before answering, the worker waits until the main thread has taken what the job wrote to stdout
 * and stderr (Node carries a worker's stdio on another port, which may otherwise overtake the answer).
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
  /** Paths (into `args`) of the arguments that were Buffers. */
  buffers?: BufferPath[];
}

/** Where a Buffer sits in a value: the keys from the value down to it (`[]`: the value itself). */
export type BufferPath = (string | number)[];

/**
 * The paths of the Buffers in `value`: itself, or inside arrays and plain objects, a few levels
 * deep (as far as results are searched for transferables). Self-contained: it runs in workers too.
 */
export function findBuffers(value: unknown): BufferPath[] {
  const found: BufferPath[] = [];
  const visit = (v: unknown, path: BufferPath, depth: number): void => {
    if (v === null || typeof v !== "object" || depth > 4 || found.length >= 4096) return;
    if (Buffer.isBuffer(v)) found.push(path);
    else if (Array.isArray(v)) (v as unknown[]).forEach((item, i) => visit(item, [...path, i], depth + 1));
    else if (Object.getPrototypeOf(v) === Object.prototype) for (const [k, item] of Object.entries(v)) visit(item, [...path, k], depth + 1);
  };
  visit(value, [], 0);
  return found;
}

/** Makes the Uint8Arrays at `paths` in a cloned value Buffers again (same memory). Self-contained. */
export function reviveBuffers(value: unknown, paths: BufferPath[] | undefined): unknown {
  if (paths === undefined) return value;
  const asBuffer = (v: unknown): unknown => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);
  let root = value;
  for (const path of paths) {
    if (path.length === 0) {
      root = asBuffer(root);
      continue;
    }
    let parent = root as Record<string | number, unknown> | null;
    for (const key of path.slice(0, -1)) parent = parent === null || typeof parent !== "object" ? null : (parent[key] as Record<string | number, unknown>);
    if (parent === null || typeof parent !== "object") continue;
    const last = path[path.length - 1]!;
    parent[last] = asBuffer(parent[last]);
  }
  return root;
}

/** What the worker answers. */
export interface ResultMessage {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: unknown;
  /** The error's class name when structured clone would lose it. */
  errorName?: string;
  /** Paths (into `value`) of the parts of the result that were Buffers. */
  buffers?: BufferPath[];
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
      const args = reviveBuffers(message.args, message.buffers) as unknown[];
      const value: unknown = await (fn as (...args: unknown[]) => unknown)(...args);
      if (message.transferResult === true) {
        const found = new Set<ArrayBuffer>();
        transferables(value, found, 0);
        transfer = [...found];
      }
      reply = { id: message.id, ok: true, value };
      const buffers = findBuffers(value);
      if (buffers.length > 0) reply.buffers = buffers;
    } catch (error) {
      if (error instanceof ReferenceError && message.key !== undefined) {
        error.message +=
          " (the job runs in a worker thread and sees only its arguments and globals: pass the value as an argument, or use a module job)";
      }
      reply = { id: message.id, ok: false, error, errorName: error instanceof Error ? error.name : undefined };
    }
    await flushOutput();
    try {
      port.postMessage(reply, transfer);
    } catch (cloneError) {
      // The result (or error) cannot cross threads, e.g. a function or a class instance with methods.
      const text = cloneError instanceof Error ? cloneError.message : String(cloneError);
      port.postMessage({ id: message.id, ok: false, error: new TypeError(`the job's result cannot be sent back from the worker thread: ${text}`) });
    }
  }

  // Resolves once the main thread has taken everything written to stdout and stderr: a write's
  // callback runs when the main thread asks for more, after the earlier writes were handed over.
  async function flushOutput(): Promise<void> {
    for (const stream of [process.stdout, process.stderr]) {
      if (stream.writableLength > 0) await new Promise<void>((resolve) => stream.write("", () => resolve()));
    }
  }

  port.on("message", (message: JobMessage) => void runJob(message));
}
/* eslint-enable @typescript-eslint/no-unsafe-function-type */

/** The script a worker is started with (`new Worker(WORKER_SOURCE, { eval: true })`). */
export const WORKER_SOURCE = `${findBuffers.toString()}\n${reviveBuffers.toString()}\n(${workerMain.toString()})();`;
