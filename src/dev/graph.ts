/**
 * Call graph introspection (asyncio.graph, CPython 3.14): which task awaits which, and where.
 *
 * How it works: the edges come from the core's own bookkeeping. A task knows the futures it is
 * suspended on and a future knows the tasks suspended on it; a gather or a shield records what it
 * waits on and a task group records its parent as awaiting each child (`core/internal/awaited-by.ts`).
 * To answer "who awaits this future", the pending tasks of the loop are scanned once and gathers
 * and shields on the way are looked through, so a child of `gather` is awaited by the task that
 * awaits the gather (as in CPython). Where a task is suspended comes from `core/internal/await-sites.ts`:
 * recorded only in debug mode or while inspection is enabled; otherwise the call stack is empty.
 * @module
 */
import {
  getRunningLoop,
  type AbstractEventLoop,
  Future,
  Task,
  currentTask,
  kAwaiters,
  kWaitingOn,
  registeredAwaitedBy,
  registeredWaitsOn,
  awaitSite,
  framesIn,
} from "../core/index.ts";

/** One frame of a call stack: `"fn (file:line:column)"` as V8 prints it. */
export interface FrameCallGraphEntry {
  readonly frame: string;
}

/** A future (usually a task), where it is suspended, and the graphs of what awaits it. */
export interface FutureCallGraph {
  readonly future: Future<unknown>;
  readonly callStack: readonly FrameCallGraphEntry[];
  readonly awaitedBy: readonly FutureCallGraph[];
}

/** Options of `captureCallGraph` and friends (CPython's `depth` and `limit`). */
export interface CallGraphOptions {
  /** For the current task only: how many innermost frames of the caller's stack to skip (default 1). */
  depth?: number;
  /** At most this many frames per call stack (`null`: all that were recorded). */
  limit?: number | null;
}

const ids = new WeakMap<object, number>();
let nextId = 1;

/** A small stable number for a task or future, shown as its `id` (JavaScript has no addresses). */
export function futureId(future: object): number {
  let id = ids.get(future);
  if (id === undefined) {
    id = nextId++;
    ids.set(future, id);
  }
  return id;
}

/**
 * The "awaited by" relation of one loop, built from a scan of its pending tasks: for every future
 * (task or not), the tasks or futures waiting on it.
 */
class AwaitIndex {
  readonly #parents = new Map<object, Set<object>>();

  constructor(loop: AbstractEventLoop) {
    const seen = new Set<object>();
    for (const task of Task.pendingOf(loop)) {
      for (const waited of task[kWaitingOn]()) this.#add(waited, task, seen);
      for (const parent of registeredAwaitedBy(task)) this.#link(task, parent);
    }
  }

  // `parent` waits on `child`; a gather or shield child is looked through to what it waits on.
  #add(child: object, parent: object, seen: Set<object>): void {
    this.#link(child, parent);
    if (seen.has(child) || child instanceof Task || !(child instanceof Future)) return;
    seen.add(child);
    for (const inner of registeredWaitsOn(child)) if (inner instanceof Future && !inner.done()) this.#add(inner, child, seen);
  }

  #link(child: object, parent: object): void {
    const set = this.#parents.get(child);
    if (set === undefined) this.#parents.set(child, new Set([parent]));
    else set.add(parent);
  }

  /** The tasks awaiting `future`, through any gathers and shields in between. */
  awaitingTasks(future: object): Task<unknown>[] {
    const out = new Set<Task<unknown>>();
    const visit = (node: object, seen: Set<object>): void => {
      const parents = new Set<object>(this.#parents.get(node));
      if (node instanceof Future) for (const t of node[kAwaiters]()) parents.add(t);
      for (const parent of parents) {
        if (parent instanceof Task) out.add(parent);
        else if (!seen.has(parent)) {
          seen.add(parent);
          visit(parent, seen);
        }
      }
    };
    visit(future, new Set([future]));
    return [...out];
  }
}

function frames(lines: readonly string[], limit: number | null | undefined): FrameCallGraphEntry[] {
  const kept = limit === null || limit === undefined ? lines : lines.slice(0, Math.max(0, limit));
  return kept.map((frame) => ({ frame }));
}

const LOOP_FRAMES = framesIn(["loop/base-events", "core/tasks"]);

function currentFrames(depth: number): string[] {
  const lines = (new Error().stack ?? "").split("\n").slice(1).map((line) => line.trim().replace(/^at /, ""));
  // Skip this module's own frames, then `depth` frames of the caller (CPython's `depth`).
  const own = lines.findIndex((line) => !line.includes(import.meta.url));
  return lines.slice(Math.max(0, own) + depth - 1).filter((line) => !line.includes("node:internal") && !LOOP_FRAMES.test(line));
}

function buildGraph(future: Future<unknown>, stack: string[], index: AwaitIndex, limit: number | null | undefined, path: Set<object>): FutureCallGraph {
  path.add(future);
  const awaitedBy: FutureCallGraph[] = [];
  for (const parent of index.awaitingTasks(future)) {
    if (path.has(parent)) continue; // a cycle: each task appears once on a path
    awaitedBy.push(buildGraph(parent, awaitSite(parent), index, limit, path));
  }
  path.delete(future);
  return { future, callStack: frames(stack, limit), awaitedBy };
}

/**
 * Captures the call graph of `future` (default: the current task): where it is suspended and, for
 * each task awaiting it (directly, or through gather, shield, a task group or waitFor), the same,
 * recursively (asyncio.capture_call_graph). Returns `null` when called outside any task without a
 * future. For the current task the call stack is the caller's stack; for other tasks it is where
 * they are suspended, known in debug mode or while inspection is enabled (empty otherwise).
 * @throws {TypeError} if `future` is not an aiots Future or Task.
 * @example
 * ```ts
 * import { run, createTask, captureCallGraph, sleep } from "aiots";
 * await run(async () => {
 *   const child = createTask(async () => { await sleep(1); }, { name: "child" });
 *   await sleep(0);
 *   const graph = captureCallGraph(child);
 *   console.log(graph?.awaitedBy.length); // 0: nobody awaits the child yet
 *   child.cancel();
 * });
 * ```
 */
export function captureCallGraph(future?: Future<unknown> | null, options: CallGraphOptions = {}): FutureCallGraph | null {
  const depth = options.depth ?? 1;
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`captureCallGraph(): depth must be an integer >= 1, got ${String(depth)}`);
  if (future === undefined || future === null) {
    const task = currentTask();
    if (task === null) return null;
    return buildGraph(task, currentFrames(depth), new AwaitIndex(task.getLoop()), options.limit, new Set());
  }
  if (!(future instanceof Future)) {
    throw new TypeError(`captureCallGraph() takes an aiots Future or Task (or nothing, for the current task), got ${typeof future}`);
  }
  const stack = future === currentTask() ? currentFrames(depth) : future instanceof Task ? awaitSite(future) : [];
  return buildGraph(future, stack, new AwaitIndex(future.getLoop()), options.limit, new Set());
}

function describe(future: Future<unknown>): string {
  if (future instanceof Task) return `Task(name='${future.getName()}', id=${futureId(future)})`;
  return `${future.constructor.name}(id=${futureId(future)})`;
}

function formatGraph(graph: FutureCallGraph, star: string, indent: string, lines: string[]): void {
  lines.push(`${star}* ${describe(graph.future)}`);
  if (graph.callStack.length > 0) {
    lines.push(`${indent}+ Call stack:`);
    for (const entry of graph.callStack) lines.push(`${indent}|   ${entry.frame}`);
  }
  if (graph.awaitedBy.length > 0) {
    lines.push(`${indent}+ Awaited by:`);
    for (const parent of graph.awaitedBy) formatGraph(parent, `${indent}   `, `${indent}      `, lines);
  }
}

/**
 * The call graph of `future` (default: the current task) as text, in CPython's layout
 * (asyncio.format_call_graph); an empty string outside any task without a future.
 * @throws {TypeError} if `future` is not an aiots Future or Task.
 * @example
 * ```ts
 * import { run, formatCallGraph } from "aiots";
 * await run(async () => {
 *   console.log(formatCallGraph()); // * Task(name='Task-1', id=1) + Call stack: ...
 * });
 * ```
 */
export function formatCallGraph(future?: Future<unknown> | null, options: CallGraphOptions = {}): string {
  const graph = captureCallGraph(future, options);
  if (graph === null) return "";
  const lines: string[] = [];
  formatGraph(graph, "", "", lines);
  return lines.join("\n");
}

/**
 * Writes `formatCallGraph(future)` to `options.file`, standard output by default, as
 * asyncio.print_call_graph prints to `sys.stdout`. It goes through `write()` of that stream, looked
 * up at each call, so a test or a tool that replaces `process.stdout.write` captures it.
 * @example
 * ```ts
 * import { run, printCallGraph } from "aiots";
 * await run(async () => { printCallGraph(); });
 * ```
 */
export function printCallGraph(future?: Future<unknown> | null, options: CallGraphOptions & { file?: { write(text: string): unknown } } = {}): void {
  const text = formatCallGraph(future, options);
  if (text !== "") (options.file ?? process.stdout).write(`${text}\n`);
}

/** One row of `aiots ps`: a pending task, what it awaits and where. */
export interface TaskRow {
  id: number;
  name: string;
  state: string;
  /** What the task is suspended on (tasks by name, gathers and shields with their children). */
  awaiting: string[];
  /** The ids of the tasks awaiting this one. */
  awaitedBy: number[];
  /** Where the task is suspended (innermost frame first); empty when not recorded. */
  where: string[];
}

function describeWait(waited: unknown, depth = 0): string {
  if (waited instanceof Task) return `Task ${waited.getName()} (#${futureId(waited)})`;
  if (waited instanceof Future) {
    const children = registeredWaitsOn(waited);
    if (children.length > 0 && depth < 3) {
      const kind = waited.constructor.name === "GatheringFuture" ? "gather" : "shield";
      const inner = children.filter((c) => !(c instanceof Future) || !c.done()).map((c) => describeWait(c, depth + 1));
      return `${kind}(${inner.join(", ")})`;
    }
    return String(waited);
  }
  if (waited !== null && typeof waited === "object" && typeof (waited as { then?: unknown }).then === "function") return "promise";
  return String(waited);
}

/** The pending tasks of `loop` (default: the running loop) as `aiots ps` rows, oldest first. */
export function taskTable(loop: AbstractEventLoop = getRunningLoop()): TaskRow[] {
  const index = new AwaitIndex(loop);
  return Task.pendingOf(loop).map((task) => ({
    id: futureId(task),
    name: task.getName(),
    state: task.cancelling() > 0 ? "cancelling" : "pending",
    awaiting: task[kWaitingOn]().map((w) => describeWait(w)),
    awaitedBy: index.awaitingTasks(task).map((t) => futureId(t)),
    where: awaitSite(task),
  }));
}
