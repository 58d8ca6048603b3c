/**
 * Connections to Redis for `RedisQueue` and `redisChannels`: URL checks, a bounded first connect, and
 * reconnection for ever after it.
 *
 * Why: node-redis retries a connection for ever by default, so a wrong address would hang the first
 * call. Here the first connect gives up after `connectTimeout` seconds with an error that names the
 * URL; once connected, a lost connection is retried with a capped backoff while commands wait in
 * node-redis's offline queue, which is what a restart of Redis needs.
 * @module
 */
import { createClient, SocketClosedUnexpectedlyError } from "redis";

type ClientOptions = Omit<Parameters<typeof createClient>[0] & object, "RESP" | "commandOptions">;

// RESP2 pinned: replies keep one shape whatever node-redis's default protocol is. No per-command
// timeout (node-redis 6 gives every command 5 s by default): a command waits through a pause or a
// restart of Redis, and the caller bounds the wait with timeout() or a cancel; the waits that
// aiots itself runs (blocking reads, the event watch) must not fail because Redis was slow.
function create(options: ClientOptions) {
  return createClient({ ...options, RESP: 2, commandOptions: { timeout: 0 } });
}

/** A node-redis client as aiots opens it (RESP2, raw command replies). */
export type RedisClient = ReturnType<typeof create>;

// Every client is a duplicate of one unconnected template: node-redis builds a client class (all
// its commands) for each distinct set of options, 50 to 100 ms of CPU each, while a duplicate
// reuses the template's class. A queue opens up to three connections, each with its own name.
let template: RedisClient | null = null;

function makeClient(options: ClientOptions): RedisClient {
  template ??= create({});
  return template.duplicate(options) as RedisClient;
}

/** Options shared by everything in `aiots/redis` that connects. Times in seconds. */
export interface RedisConnectOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://` for TLS. */
  url: string;
  /** Seconds the first connection may take (default 10); after that the call fails. */
  connectTimeout?: number;
}

/**
 * Checks a Redis URL and returns it parsed.
 * @throws {TypeError} when it is not a `redis://` or `rediss://` URL, saying what was given.
 */
export function checkRedisUrl(url: unknown, who: string): URL {
  if (typeof url !== "string") {
    throw new TypeError(`${who}: options.url must be a string such as "redis://127.0.0.1:6379", got ${url === null ? "null" : typeof url}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`${who}: ${JSON.stringify(url)} is not a URL; write it as redis://host:port (e.g. "redis://127.0.0.1:6379")`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new TypeError(`${who}: ${JSON.stringify(url)} is not a Redis URL; it must start with redis:// (or rediss:// for TLS)`);
  }
  if (parsed.hostname === "") throw new TypeError(`${who}: ${JSON.stringify(url)} names no host; write redis://host:port`);
  return parsed;
}

/**
 * Checks a duration option in seconds.
 * @throws {RangeError} when it is not a positive finite number.
 */
export function checkSeconds(value: unknown, name: string, who: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${who}: ${name} must be a positive number of seconds, got ${String(value)}`);
  }
  return value;
}

/** A URL with its password hidden, for messages. */
export function redactUrl(url: URL): string {
  if (url.password === "") return url.href;
  const copy = new URL(url.href);
  copy.password = "***";
  return copy.href;
}

/**
 * Opens a client on `url`. The first connection is retried for at most `connectTimeout` seconds;
 * later losses are retried for ever (every 50 ms doubling to 1 s) with commands queued meanwhile.
 * @throws {Error} when the first connection does not succeed in time, naming the URL and the cause.
 */
export async function openClient(url: URL, connectTimeout: number, who: string, clientName: string): Promise<RedisClient> {
  const deadline = Date.now() + connectTimeout * 1000;
  let connectedOnce = false;
  let lastError: unknown = null;
  const client = makeClient({
    url: url.href,
    name: clientName,
    socket: {
      connectTimeout: Math.max(1, Math.min(connectTimeout * 1000, 10_000)),
      reconnectStrategy: (retries: number, cause: Error) => {
        lastError = cause;
        if (!connectedOnce && Date.now() >= deadline) return failure(url, connectTimeout, who, cause);
        return Math.min(50 * 2 ** Math.min(retries, 5), 1000);
      },
    },
  });
  // node-redis emits every socket error; without a listener one would end the process.
  client.on("error", (error: unknown) => {
    lastError = error;
  });
  client.on("ready", () => {
    connectedOnce = true;
  });
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    if (error instanceof Error && error.message.startsWith(who)) throw error;
    throw failure(url, connectTimeout, who, lastError ?? error);
  }
  return client;
}

function failure(url: URL, connectTimeout: number, who: string, cause: unknown): Error {
  const reason = cause instanceof Error ? (cause.message || cause.name) : String(cause);
  return new Error(
    `${who}: cannot connect to Redis at ${redactUrl(url)} within ${connectTimeout} s (${reason}); is redis-server running there and is the URL right?`,
    { cause },
  );
}

/** Whether `error` means the connection dropped with the command in flight (worth sending again). */
export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof SocketClosedUnexpectedlyError) return true;
  if (!(error instanceof Error)) return false;
  return /socket closed unexpectedly|ECONNRESET|EPIPE|connection (is )?closed|LOADING/i.test(error.message);
}
