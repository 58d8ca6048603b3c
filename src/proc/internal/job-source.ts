/**
 * Turns a function into source a worker thread can compile, and proves it is self-contained.
 *
 * How it works: a JavaScript function cannot carry its closure into another thread, so a worker
 * gets only its source text (`Function.prototype.toString`). The source is parsed with acorn and
 * its scopes resolved with eslint-scope (the parser and scope analyser ESLint itself uses): every
 * identifier that resolves to no declaration inside the function is free, and a free name that is
 * not a global of a fresh JavaScript realm or of Node is an outer variable the worker will not
 * have. Those names go into the error, with the two fixes. Identifiers only read under `typeof`
 * are allowed (feature tests such as `typeof window`). Results are cached by source text.
 */
import { createRequire } from "node:module";
import { runInNewContext } from "node:vm";
import type * as Acorn from "acorn";
import type * as EslintScope from "eslint-scope";

const require = createRequire(import.meta.url);
// Loaded on first use: a program that never sends a function to a worker never loads a parser.
let acorn: typeof Acorn | undefined;
let eslintScope: typeof EslintScope | undefined;

const CACHE_LIMIT = 256;
// source text -> the expression a worker evaluates to get the function back.
const cache = new Map<string, string>();
// The same, by function object: a function sent again skips even reading its source.
const byFunction = new WeakMap<object, string>();

let knownGlobals: Set<string> | undefined;

/** Names every worker has: the realm's built-ins and Node's globals. */
function globalNames(): Set<string> {
  if (knownGlobals !== undefined) return knownGlobals;
  const names = new Set<string>(runInNewContext("Object.getOwnPropertyNames(globalThis)") as string[]);
  for (let object: object | null = globalThis; object !== null; object = Object.getPrototypeOf(object) as object | null) {
    for (const name of Object.getOwnPropertyNames(object)) names.add(name);
  }
  knownGlobals = names;
  return names;
}

/** The usage hint every "not self-contained" error carries. */
export const SELF_CONTAINED_HINT =
  "A function run in a worker thread is sent as source text and cannot see variables outside it. Either pass the value as an argument " +
  "(toThread((x, y) => ..., x, y)), or put the function in a module and send a module job: " +
  '{ module: new URL("./work.ts", import.meta.url), export: "hash" }';

/**
 * The expression that re-creates `fn` in a worker.
 * @throws {TypeError} if `fn` is native, bound, a class, or refers to variables outside itself.
 */
export function functionJobSource(what: string, fn: (...args: never[]) => unknown): string {
  const known = byFunction.get(fn);
  if (known !== undefined) return known;
  const source = Function.prototype.toString.call(fn);
  const cached = cache.get(source);
  if (cached !== undefined) {
    byFunction.set(fn, cached);
    return cached;
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TypeError(`${what} cannot send a native or bound function (${fn.name || "anonymous"}) to a worker thread: ${SELF_CONTAINED_HINT}`);
  }
  if (/^class\b/.test(source)) {
    throw new TypeError(`${what} takes a function, not a class (${fn.name || "anonymous"}): wrap the work in a function, or use a module job`);
  }
  const { program, expression } = parseFunction(what, source);
  const free = freeVariables(program);
  if (free.length > 0) {
    const names = free.map((name) => `"${name}"`).join(", ");
    const verb = free.length === 1 ? "is" : "are";
    throw new TypeError(`${what}: the function refers to ${names}, which ${verb} defined outside it. ${SELF_CONTAINED_HINT}`);
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(source, expression);
  byFunction.set(fn, expression);
  return expression;
}

function parseFunction(what: string, source: string): { program: Acorn.Program; expression: string } {
  acorn ??= require("acorn") as typeof Acorn;
  const options: Acorn.Options = { ecmaVersion: "latest", sourceType: "script", ranges: true };
  // A function or arrow expression.
  const expression = `(${source})`;
  try {
    return { program: acorn.parse(expression, options), expression };
  } catch {
    // A method (`hash(x) { ... }`, `async *lines() { ... }`): its source is only valid in an object literal.
  }
  const method = `Object.values({ ${source} })[0]`;
  try {
    return { program: acorn.parse(method, options), expression: method };
  } catch (error) {
    throw new TypeError(`${what} could not read the function's source (${(error as Error).message}); use a module job instead`, { cause: error });
  }
}

function freeVariables(program: Acorn.Program): string[] {
  eslintScope ??= require("eslint-scope") as typeof EslintScope;
  const manager = eslintScope.analyze(program as never, { ecmaVersion: 2022, sourceType: "script", fallback: "iteration" });
  const underTypeof = typeofOperands(program);
  const globals = globalNames();
  const free = new Set<string>();
  for (const reference of manager.globalScope!.through) {
    const name = reference.identifier.name;
    if (globals.has(name) || name === "Object" || underTypeof.has(reference.identifier)) continue;
    free.add(name);
  }
  return [...free];
}

/** Identifier nodes that are the operand of `typeof` (reading an undefined global there is fine). */
function typeofOperands(root: unknown): Set<unknown> {
  const found = new Set<unknown>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== "object") continue;
    if (Array.isArray(node)) {
      stack.push(...(node as unknown[]));
      continue;
    }
    const record = node as Record<string, unknown>;
    if (record["type"] === "UnaryExpression" && record["operator"] === "typeof") {
      const argument = record["argument"] as Record<string, unknown>;
      if (argument["type"] === "Identifier") found.add(argument);
    }
    for (const key in record) {
      const child = record[key];
      if (child !== null && typeof child === "object") stack.push(child);
    }
  }
  return found;
}
