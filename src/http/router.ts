/**
 * `Router`: routes by method and path pattern (`/users/:id` or aiohttp's `/users/{id}`, a trailing
 * `/*rest` or `/{rest:.*}` for the remainder, `{id:\d+}` for a segment matching a regex).
 *
 * How matching works: each pattern is split into segments once. A path is matched against the
 * routes in registration order; the first route whose segments match and whose method matches wins.
 * A path that matches some route but not with this method gives 405 with `allow`; none gives 404.
 * HEAD falls back to a GET route (Node drops the body).
 * @module
 */
import { inspectSymbol } from "../core/index.ts";

/** A compiled route: method, pattern segments and the value it leads to. */
interface Route<H> {
  method: string; // upper case, or "*" for any method
  pattern: string;
  // Normalized: literal text, ":name", or "*name" (last only).
  segments: string[];
  // For a ":name" segment given as {name:regex}: the regex a segment must match whole.
  regexes: (RegExp | null)[];
  handler: H;
}

/** The outcome of `Router.resolve`. */
export type Resolution<H> =
  | { kind: "found"; handler: H; params: Record<string, string>; pattern: string }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "not-found" };

/**
 * A method-and-path router (the part of aiohttp's UrlDispatcher that aiots uses).
 * @example
 * ```ts
 * import { Router } from "aiots/http";
 * const router = new Router<string>();
 * router.add("GET", "/users/:id", "user");
 * router.resolve("GET", "/users/42"); // { kind: "found", handler: "user", params: { id: "42" }, ... }
 * ```
 */
export class Router<H> {
  readonly #routes: Route<H>[] = [];
  // Paths with no parameter: path -> the routes registered for it, so most lookups are one Map hit.
  // Only used while no parameter route was registered before a static one (order would matter).
  readonly #static = new Map<string, Route<H>[]>();
  #staticUsable = true;

  /**
   * Adds a route. `path` starts with `/`; `:name` or `{name}` segments capture one segment,
   * `{name:regex}` one segment matching `regex` whole, and a last `*name`, `{name:.*}` or
   * `{name:.+}` segment the rest of the path.
   * @throws {TypeError} for a path that does not start with `/`, a bad method or a bad `{...}`.
   */
  add(method: string, path: string, handler: H): void {
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new TypeError(`a route path starts with "/", e.g. "/users/:id", not ${JSON.stringify(path)}`);
    }
    if (typeof method !== "string" || !/^([A-Za-z]+|\*)$/.test(method)) {
      throw new TypeError(`a route method is a word like "GET" (or "*" for any), not ${JSON.stringify(method)}`);
    }
    const regexes: (RegExp | null)[] = [];
    const segments = split(path).map((segment, i, all) => {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)(?::(.+))?\}$/.exec(segment);
      if (m === null) {
        if (segment.includes("{") || segment.includes("}")) {
          throw new TypeError(`bad segment ${JSON.stringify(segment)} in ${path}: a parameter is a whole segment, {name} or {name:regex}`);
        }
        regexes.push(null);
        return segment;
      }
      const [, name, regex] = m;
      if (regex === ".*" || regex === ".+" || regex === "path") {
        if (i !== all.length - 1) throw new TypeError(`a "{${name}:${regex}}" segment must come last in ${path}`);
        regexes.push(null);
        return `*${name}`;
      }
      let compiled: RegExp | null = null;
      if (regex !== undefined) {
        try {
          compiled = new RegExp(`^(?:${regex})$`);
        } catch (error) {
          throw new TypeError(`bad regex in ${JSON.stringify(segment)} of ${path}: ${(error as Error).message}`, { cause: error });
        }
      }
      regexes.push(compiled);
      return `:${name}`;
    });
    segments.forEach((segment, i) => {
      if (segment.startsWith("*") && i !== segments.length - 1) {
        throw new TypeError(`a "*${segment.slice(1)}" segment must come last in ${path}`);
      }
    });
    const route = { method: method.toUpperCase(), pattern: path, segments, regexes, handler };
    this.#routes.push(route);
    const isStatic = segments.every((segment) => !segment.startsWith(":") && !segment.startsWith("*"));
    if (!isStatic) {
      this.#staticUsable = false;
      return;
    }
    const key = `/${segments.join("/")}`;
    const list = this.#static.get(key);
    if (list === undefined) this.#static.set(key, [route]);
    else list.push(route);
  }

  /** Finds the route for `method path`. */
  resolve(method: string, path: string): Resolution<H> {
    if (this.#staticUsable) {
      const route = this.#static.get(path)?.find((r) => r.method === method || r.method === "*");
      if (route !== undefined) return { kind: "found", handler: route.handler, params: {}, pattern: route.pattern };
    }
    const allow = new Set<string>();
    const segments = split(path);
    for (const route of this.#routes) {
      const params = match(route.segments, route.regexes, segments);
      if (params === null) continue;
      if (route.method === "*" || route.method === method || (method === "HEAD" && route.method === "GET")) {
        return { kind: "found", handler: route.handler, params, pattern: route.pattern };
      }
      allow.add(route.method);
      if (route.method === "GET") allow.add("HEAD");
    }
    return allow.size > 0 ? { kind: "method-not-allowed", allow: [...allow].sort() } : { kind: "not-found" };
  }

  /** The routes, as `METHOD pattern` strings. */
  toString(): string {
    return `<Router ${this.#routes.map((r) => `${r.method} ${r.pattern}`).join(", ")}>`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function split(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function match(pattern: readonly string[], regexes: readonly (RegExp | null)[], segments: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith("*")) {
      params[p.slice(1) || "rest"] = segments.slice(i).join("/");
      return params;
    }
    const s = segments[i];
    if (s === undefined) return null;
    if (p.startsWith(":")) {
      const re = regexes[i];
      if (re !== null && re !== undefined && !re.test(s)) return null;
      params[p.slice(1)] = s;
    }
    else if (p !== s) return null;
  }
  return segments.length === pattern.length ? params : null;
}
