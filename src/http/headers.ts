/**
 * `CIMultiDict`: case-insensitive HTTP headers with several values per name (aiohttp's multidict).
 *
 * How it works: the items live in a `Map` keyed by the lower-cased name; each entry keeps the
 * name as it was last set (that spelling is what goes on the wire) and its values in order. The
 * object users hold is a `Proxy` over the instance so that index access (`headers["Content-Type"]`,
 * `headers.connection = "close"`, `delete headers.Etag`, `"x-id" in headers`, `Object.keys()`) is
 * case-insensitive too. The methods and the server's write path read the `Map` directly, so only
 * index-style access pays for the trap.
 * @module
 */
import { inspectSymbol } from "../core/index.ts";

/** What `new CIMultiDict(init)` (and a response's `headers` option) accepts. */
export type HeadersInit =
  | CIMultiDict
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | number | readonly string[] | undefined>>;

interface Entry {
  // The spelling of the name last set; sent on the wire as is.
  name: string;
  // At least one value while the entry is in the map.
  values: string[];
}

const ITEMS = Symbol("aiots.headers.items");
const TARGET = Symbol("aiots.headers.target");

// A header name as RFC 9110 §5.1 allows (a token); checked on every write so that a bad name is
// refused where it is set, not later as a 500 when the response goes out.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A value may not carry CR, LF or NUL (response splitting).
const BAD_VALUE = /[\r\n\0]/;

function checkName(name: string): void {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(`invalid header name ${JSON.stringify(name)}: a header name is a token such as "content-type"`);
  }
}

function checkValue(name: string, value: unknown): string {
  const text = typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
  if (text === undefined) {
    throw new TypeError(`the value of header ${name} must be a string (or a number), not ${typeof value}`);
  }
  if (BAD_VALUE.test(text)) throw new TypeError(`the value of header ${name} contains CR, LF or NUL, which HTTP forbids`);
  return text;
}

class CIMultiDictImpl {
  declare [ITEMS]: Map<string, Entry>;

  constructor(init?: HeadersInit) {
    this[ITEMS] = new Map();
    // The proxy is what the constructor returns; `this` stays the plain target.
    const proxy = new Proxy(this, handler);
    if (init !== undefined && init !== null) fill(this, init);
    return proxy;
  }

  /** Number of items (a name with two values counts twice, as `len()` of a multidict). */
  get size(): number {
    let n = 0;
    for (const entry of target(this)[ITEMS].values()) n += entry.values.length;
    return n;
  }

  /** The first value of `name` (any case), or `fallback` (default `undefined`) when absent. */
  get(name: string): string | undefined;
  get<T>(name: string, fallback: T): string | T;
  get<T>(name: string, fallback?: T): string | T | undefined {
    const entry = target(this)[ITEMS].get(name.toLowerCase());
    return entry === undefined ? fallback : entry.values[0];
  }

  /** Every value of `name` (any case), in the order they were added; `[]` when absent. */
  getAll(name: string): string[] {
    const entry = target(this)[ITEMS].get(name.toLowerCase());
    return entry === undefined ? [] : [...entry.values];
  }

  /** True when `name` (any case) has a value. */
  has(name: string): boolean {
    return target(this)[ITEMS].has(name.toLowerCase());
  }

  /**
   * Replaces every value of `name` (any case) with `value`; the name is then sent as spelled here.
   * @throws {TypeError} for a name that is not an HTTP token or a value with CR, LF or NUL.
   */
  set(name: string, value: string | number): this {
    checkName(name);
    target(this)[ITEMS].set(name.toLowerCase(), { name, values: [checkValue(name, value)] });
    return this;
  }

  /**
   * Adds one more value for `name` (any case), after those already there (`Set-Cookie` twice).
   * @throws {TypeError} as `set()`.
   */
  append(name: string, value: string | number): this {
    checkName(name);
    const text = checkValue(name, value);
    const items = target(this)[ITEMS];
    const key = name.toLowerCase();
    const entry = items.get(key);
    if (entry === undefined) items.set(key, { name, values: [text] });
    else entry.values.push(text);
    return this;
  }

  /**
   * Sets `name` to `value` only when it has no value yet; returns the first value in force
   * (multidict's `setdefault`).
   * @throws {TypeError} as `set()`.
   */
  setDefault(name: string, value: string | number): string {
    const entry = target(this)[ITEMS].get(name.toLowerCase());
    if (entry !== undefined) return entry.values[0]!;
    this.set(name, value);
    return String(value);
  }

  /** Removes every value of `name` (any case); true when there was one. */
  delete(name: string): boolean {
    return target(this)[ITEMS].delete(name.toLowerCase());
  }

  /** Removes every header. */
  clear(): void {
    target(this)[ITEMS].clear();
  }

  /** `[name, value]` per item; the values of one name come together, at its first position. */
  *entries(): IterableIterator<[string, string]> {
    for (const entry of target(this)[ITEMS].values()) {
      for (const value of entry.values) yield [entry.name, value];
    }
  }

  /** The name of each item (a name with two values appears twice, as a multidict's `keys()`). */
  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  /** The value of each item. */
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  /** Same as `entries()`: `for (const [name, value] of headers)`. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** Calls `fn(value, name)` per item, as `Map#forEach` and fetch's `Headers#forEach`. */
  forEach(fn: (value: string, name: string, headers: CIMultiDict) => void): void {
    for (const [name, value] of this.entries()) fn(value, name, this as unknown as CIMultiDict);
  }

  /** A copy that can be changed independently. */
  copy(): CIMultiDict {
    return new CIMultiDict(this);
  }

  /**
   * The headers as one flat `[name, value, name, value, ...]` list (the shape of Node's
   * `rawHeaders`, accepted by `res.writeHead()`), names as spelled when set.
   */
  flat(): string[] {
    const out: string[] = [];
    for (const entry of target(this)[ITEMS].values()) {
      for (const value of entry.values) out.push(entry.name, value);
    }
    return out;
  }

  /** `{ name: value }` with the names lower-cased; a name with several values maps to an array. */
  toJSON(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [key, entry] of target(this)[ITEMS]) out[key] = entry.values.length === 1 ? entry.values[0]! : [...entry.values];
    return out;
  }

  toString(): string {
    const parts = [...this.entries()].map(([name, value]) => `${name}: ${JSON.stringify(value)}`);
    return `<CIMultiDict(${parts.join(", ")})>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

// Names that index access must leave to the object (methods, Object.prototype, `then` so that
// the dict is never mistaken for a promise); a header with such a name is reached with get().
const RESERVED = new Set<string>(["then", "constructor"]);
for (let proto: object | null = CIMultiDictImpl.prototype; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
  for (const key of Object.getOwnPropertyNames(proto)) RESERVED.add(key);
}

function target(self: CIMultiDictImpl): CIMultiDictImpl {
  // Called with the proxy (user calls) or the target (internal calls); the trap unwraps the proxy.
  return (self as unknown as { [TARGET]?: CIMultiDictImpl })[TARGET] ?? self;
}

const handler: ProxyHandler<CIMultiDictImpl> = {
  get(t, prop) {
    if (typeof prop === "symbol") return prop === TARGET ? t : (t as unknown as Record<symbol, unknown>)[prop];
    if (RESERVED.has(prop)) return (t as unknown as Record<string, unknown>)[prop];
    const items = t[ITEMS];
    const entry = items.get(prop) ?? items.get(prop.toLowerCase());
    return entry === undefined ? undefined : entry.values[0];
  },
  set(t, prop, value) {
    if (typeof prop === "symbol") return Reflect.set(t, prop, value);
    if (value === undefined || value === null) {
      t[ITEMS].delete(prop.toLowerCase());
      return true;
    }
    if (Array.isArray(value)) {
      t[ITEMS].delete(prop.toLowerCase());
      for (const v of value as unknown[]) t.append(prop, v as string);
      return true;
    }
    t.set(prop, value as string);
    return true;
  },
  has(t, prop) {
    if (typeof prop === "symbol" || RESERVED.has(prop)) return prop in t;
    return t[ITEMS].has(prop.toLowerCase());
  },
  deleteProperty(t, prop) {
    if (typeof prop === "symbol") return Reflect.deleteProperty(t, prop);
    t[ITEMS].delete(prop.toLowerCase());
    return true;
  },
  ownKeys(t) {
    return [...t[ITEMS].values()].map((entry) => entry.name);
  },
  getOwnPropertyDescriptor(t, prop) {
    if (typeof prop === "symbol") return Reflect.getOwnPropertyDescriptor(t, prop);
    const entry = t[ITEMS].get(prop.toLowerCase());
    if (entry === undefined) return undefined;
    return { value: entry.values[0], writable: true, enumerable: true, configurable: true };
  },
  defineProperty(t, prop, descriptor) {
    if (typeof prop === "symbol") return Reflect.defineProperty(t, prop, descriptor);
    t.set(prop, descriptor.value as string);
    return true;
  },
};

function fill(self: CIMultiDictImpl, init: HeadersInit): void {
  if (init instanceof CIMultiDictImpl) {
    for (const [key, entry] of target(init)[ITEMS]) self[ITEMS].set(key, { name: entry.name, values: [...entry.values] });
    return;
  }
  if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
    for (const pair of init as Iterable<readonly [string, string]>) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError("headers given as an iterable must yield [name, value] pairs");
      }
      self.append(pair[0], pair[1]);
    }
    return;
  }
  if (typeof init !== "object") throw new TypeError(`headers are a record, [name, value] pairs or a CIMultiDict, not ${typeof init}`);
  for (const [name, value] of Object.entries(init as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value as unknown[]) self.append(name, v as string);
    else self.append(name, value as string);
  }
}

/**
 * Builds headers from Node's flat `rawHeaders` list without re-checking what Node's parser
 * already validated. @internal
 */
export function headersFromRaw(raw: readonly string[]): CIMultiDict {
  const dict = new CIMultiDict();
  const items = target(dict)[ITEMS];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const key = name.toLowerCase();
    const entry = items.get(key);
    if (entry === undefined) items.set(key, { name, values: [raw[i + 1]!] });
    else entry.values.push(raw[i + 1]!);
  }
  return dict;
}

/**
 * Calls `fn(name, values)` once per distinct name, reading the storage directly (the server's
 * write path: no proxy trap, no copies). @internal
 */
export function forEachHeader(dict: CIMultiDict, fn: (name: string, values: readonly string[], key: string) => void): void {
  for (const [key, entry] of target(dict)[ITEMS]) fn(entry.name, entry.values, key);
}

/**
 * Case-insensitive HTTP headers (aiohttp's `CIMultiDict`): a name may carry several values,
 * `headers[name]` and every method ignore the name's case, and a name set twice in different
 * cases is one header. Index access reads the first value and assigning replaces all of them;
 * `append()` adds one more (`Set-Cookie`). A header whose name is also a method name (`get`,
 * `set`, ...) is reached through the methods only.
 * @example
 * ```ts
 * import { CIMultiDict } from "aiots/http";
 * const headers = new CIMultiDict({ "content-type": "text/plain" });
 * headers["Content-Type"] = "application/json";   // replaces: still one header
 * headers.append("Set-Cookie", "a=1").append("set-cookie", "b=2");
 * console.log(headers["CONTENT-TYPE"], headers.getAll("Set-Cookie"), headers.size);
 * // application/json [ 'a=1', 'b=2' ] 3
 * ```
 * @throws {TypeError} (on writes) for a name that is not an HTTP token or a value with CR/LF/NUL.
 */
export type CIMultiDict = CIMultiDictImpl & { [name: string]: string };

/** Creates case-insensitive headers from a record, `[name, value]` pairs or another `CIMultiDict`. */
export const CIMultiDict = CIMultiDictImpl as unknown as {
  new (init?: HeadersInit): CIMultiDict;
  readonly prototype: CIMultiDict;
};
