/**
 * The options of `connect()` and `createPool()`, checked once with errors that say what to write.
 * @module
 */
import type { Connection } from "./connection.ts";
/** How to reach and log in to the server, shared by `connect()` and `createPool()`. Times in seconds. */
export interface ConnectOptions {
  /** `postgresql://user:password@host:port/database?options` (libpq's URI form; `postgres://` too). */
  dsn?: string;
  /** Host name, IP address, or a directory holding the server's unix socket; overrides the DSN's. */
  host?: string;
  /** Port (default 5432); overrides the DSN's. */
  port?: number;
  /** User name; overrides the DSN's. */
  user?: string;
  /** Password; overrides the DSN's. */
  password?: string;
  /** Database name; overrides the DSN's. */
  database?: string;
  /** Seconds a connection attempt may take before it fails (default 60, asyncpg's `timeout`). */
  connectTimeout?: number;
  /**
   * Default bound in seconds for every statement (asyncpg's `command_timeout`); past it the
   * statement is cancelled on the server and the call throws `TimeoutError`. Default: none.
   */
  commandTimeout?: number | null;
  /** Run-time parameters set for each connection at login (asyncpg's `server_settings`), e.g. `{ application_name: "api" }`. */
  serverSettings?: Record<string, string>;
}

/** Options as checked: the DSN with its password hidden for messages. */
export interface CheckedConnect {
  client: Record<string, unknown>;
  connectTimeout: number;
  commandTimeout: number | null;
  shown: string;
}

/**
 * Checks a duration in seconds.
 * @throws {RangeError} when it is not a positive finite number.
 */
export function checkSeconds(value: unknown, name: string, who: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${who}: ${name} must be a positive number of seconds, got ${String(value)}`);
  }
  return value;
}

/** A DSN with its password replaced by `***`, for messages. */
function redact(dsn: string): string {
  try {
    const url = new URL(dsn);
    if (url.password !== "") url.password = "***";
    return url.href;
  } catch {
    return dsn;
  }
}

/**
 * Checks connection options (a DSN string or an object).
 * @throws {TypeError} for a DSN that is not a postgresql:// URI or options of the wrong type.
 */
export function checkConnectOptions(input: string | ConnectOptions | undefined, who: string): CheckedConnect {
  const options: ConnectOptions = typeof input === "string" ? { dsn: input } : input ?? {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${who}: pass a DSN such as "postgresql://user@127.0.0.1:5432/db" or an options object, got ${typeof input}`);
  }
  const client: Record<string, unknown> = {};
  let shown = "";
  if (options.dsn !== undefined) {
    if (typeof options.dsn !== "string" || !/^postgres(ql)?:\/\//.test(options.dsn)) {
      throw new TypeError(`${who}: the DSN must be a string starting with postgresql:// (e.g. "postgresql://user:password@127.0.0.1:5432/db"), got ${JSON.stringify(options.dsn)}`);
    }
    try {
      new URL(options.dsn);
    } catch {
      throw new TypeError(`${who}: ${JSON.stringify(redact(options.dsn))} is not a valid URI; write postgresql://user:password@host:port/database`);
    }
    client["connectionString"] = options.dsn;
    shown = redact(options.dsn);
  }
  for (const key of ["host", "user", "password", "database"] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== "string") throw new TypeError(`${who}: options.${key} must be a string, got ${typeof value}`);
    client[key] = value;
  }
  if (options.port !== undefined) {
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new RangeError(`${who}: options.port must be an integer from 1 to 65535, got ${String(options.port)}`);
    }
    client["port"] = options.port;
  }
  if (shown === "" || options.host !== undefined || options.port !== undefined) {
    shown = `${options.host ?? (shown === "" ? "localhost" : "")}${options.port === undefined ? "" : `:${options.port}`}${shown === "" ? "" : ` (${shown})`}`;
  }
  const connectTimeout = options.connectTimeout === undefined ? 60 : checkSeconds(options.connectTimeout, "connectTimeout", who);
  const commandTimeout = options.commandTimeout === undefined || options.commandTimeout === null ? null : checkSeconds(options.commandTimeout, "commandTimeout", who);
  if (options.serverSettings !== undefined) {
    const parts: string[] = [];
    for (const [name, value] of Object.entries(options.serverSettings)) {
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) || typeof value !== "string") {
        throw new TypeError(`${who}: serverSettings maps parameter names to string values, got ${JSON.stringify(name)}: ${typeof value}`);
      }
      parts.push(`-c ${name}=${value.replace(/[\\ ]/g, (c) => `\\${c}`)}`);
    }
    client["options"] = parts.join(" ");
  }
  return { client, connectTimeout, commandTimeout, shown };
}

/** Pool options: connection options plus sizes (asyncpg's names). */
export interface PoolOptions extends ConnectOptions {
  /** Connections opened by `createPool()` and kept open (default 10, as asyncpg; 0 opens them on demand). */
  minSize?: number;
  /** Most connections open at once (default 10); `acquire()` waits in FIFO order beyond it. */
  maxSize?: number;
  /**
   * Seconds an idle connection above `minSize` stays open (asyncpg's
   * `max_inactive_connection_lifetime`, default 300; 0 keeps them).
   */
  maxInactiveConnectionLifetime?: number;
  /** Runs on each new connection before first use (asyncpg's `init`), e.g. to set a search_path. */
  init?: (conn: Connection) => Promise<void>;
}

/** Checked pool sizes. */
export interface CheckedPool {
  minSize: number;
  maxSize: number;
  maxInactive: number;
}

/**
 * Checks pool sizes.
 * @throws {RangeError} for sizes that are not integers with 0 <= minSize <= maxSize, maxSize >= 1.
 */
export function checkPoolOptions(options: PoolOptions, who: string): CheckedPool {
  const maxSize = options.maxSize ?? 10;
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`${who}: maxSize must be an integer of at least 1, got ${String(maxSize)}`);
  const minSize = options.minSize ?? Math.min(10, maxSize);
  if (!Number.isInteger(minSize) || minSize < 0 || minSize > maxSize) {
    throw new RangeError(`${who}: minSize must be an integer from 0 to maxSize (${maxSize}), got ${String(minSize)}`);
  }
  const maxInactive = options.maxInactiveConnectionLifetime ?? 300;
  if (typeof maxInactive !== "number" || !Number.isFinite(maxInactive) || maxInactive < 0) {
    throw new RangeError(`${who}: maxInactiveConnectionLifetime must be a number of seconds >= 0, got ${String(maxInactive)}`);
  }
  if (options.init !== undefined && typeof options.init !== "function") throw new TypeError(`${who}: init must be an async function (conn) => ...`);
  return { minSize, maxSize, maxInactive };
}
