/** Helpers for the `<Task pending name=...>` style descriptions every stateful object prints. */
import { inspect } from "node:util";

export const inspectSymbol: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/** A short, single-line description of any value for a repr. */
export function shortRepr(value: unknown): string {
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`;
  const text = inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 60 });
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The name of a callback, for reprs: `fnName` or `<anonymous>`. */
export function callbackName(fn: unknown): string {
  if (typeof fn === "function") return fn.name === "" ? "<anonymous>" : fn.name;
  return String(fn);
}
