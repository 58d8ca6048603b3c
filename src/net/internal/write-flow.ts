/**
 * Write flow control shared by the Node-backed transports: water marks, and the
 * `pauseWriting()`/`resumeWriting()` calls to the protocol when the write buffer crosses them.
 *
 * How it works: after every write the transport reports its buffer size; going over `high` pauses
 * the protocol. Node reports progress only through write callbacks, so the transport asks for one
 * (`wantsCallback`) only for the write that crosses `high` and for every write while paused: the
 * usual path (a buffer under `high`) never allocates a callback. Writes complete in order, so once
 * the crossing write has completed every later completion is seen; each re-checks the size and
 * resumes the protocol at or below `low`.
 */
import type { AbstractEventLoop, BaseProtocol } from "../../core/index.ts";

export const DEFAULT_HIGH_WATER = 64 * 1024;

/** Validates and fills in asyncio's defaults: high 64 KiB, low high / 4. */
export function normalizeLimits(high?: number | null, low?: number | null): [high: number, low: number] {
  for (const [what, v] of [["high", high], ["low", low]] as const) {
    if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isFinite(v))) {
      throw new TypeError(`setWriteBufferLimits() ${what} must be a number of bytes or null, got ${String(v)}`);
    }
  }
  const h = high ?? (low === undefined || low === null ? DEFAULT_HIGH_WATER : 4 * low);
  const l = low ?? Math.floor(h / 4);
  if (!(h >= l && l >= 0)) {
    throw new RangeError(`setWriteBufferLimits() needs high (${h}) >= low (${l}) >= 0`);
  }
  return [h, l];
}

export class WriteFlow {
  high = DEFAULT_HIGH_WATER;
  low = DEFAULT_HIGH_WATER / 4;
  // True between a pauseWriting() and the matching resumeWriting() call.
  paused = false;
  readonly #loop: AbstractEventLoop;
  readonly #owner: object;
  protocol: BaseProtocol;

  constructor(loop: AbstractEventLoop, owner: object, protocol: BaseProtocol) {
    this.#loop = loop;
    this.#owner = owner;
    this.protocol = protocol;
  }

  setLimits(high: number | null | undefined, low: number | null | undefined, size: number): void {
    [this.high, this.low] = normalizeLimits(high, low);
    this.check(size);
  }

  /** True when a write that brings the buffer to `sizeAfter` bytes needs a completion callback. */
  wantsCallback(sizeAfter: number): boolean {
    return this.paused || sizeAfter > this.high;
  }

  /** Pauses or resumes the protocol for the current buffer size. */
  check(size: number): void {
    if (!this.paused) {
      if (size > this.high) {
        this.paused = true;
        this.#call("pauseWriting");
      }
    } else if (size <= this.low) {
      this.paused = false;
      this.#call("resumeWriting");
    }
  }

  #call(method: "pauseWriting" | "resumeWriting"): void {
    try {
      this.protocol[method]();
    } catch (exception) {
      this.#loop.callExceptionHandler({
        message: `protocol.${method}() failed`,
        exception,
        transport: this.#owner,
        protocol: this.protocol,
      });
    }
  }
}

/**
 * The method by which a Node-backed transport tells `StreamWriter.drain()` that its peer is gone:
 * it returns the error a write met (EPIPE, ECONNRESET), or null. A transport learns it in
 * `write()`, synchronously, from the Node stream's state: Node reports the failure in events on a
 * later tick, which a task looping on `write()` and a `drain()` that does not suspend never lets run.
 */
export const kPeerGone: unique symbol = Symbol("aiots.peerGone");

/** The error a Node-backed transport's `kPeerGone` method gives, when the transport has one. */
export function peerGoneError(transport: object): Error | null {
  const method = (transport as { [kPeerGone]?: () => Error | null })[kPeerGone];
  return typeof method === "function" ? method.call(transport) : null;
}

/**
 * The error `drain()` throws on a connection that is gone, named as asyncio's: `BrokenPipeError`
 * for EPIPE, else `ConnectionResetError`. It keeps the cause's `code` (ECONNRESET by default) and
 * the cause itself.
 */
export function connectionLostError(cause: Error | null = null): Error {
  const code = cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : "ECONNRESET";
  const message = cause === null ? "Connection lost" : `Connection lost: ${cause.message}`;
  const error = new Error(message, cause === null ? undefined : { cause });
  return Object.assign(error, { name: code === "EPIPE" ? "BrokenPipeError" : "ConnectionResetError", code });
}

/** Checks a `write()` argument: bytes only, as asyncio. */
export function checkBytes(what: string, data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    const got = typeof data === "string" ? "a string (encode it: Buffer.from(text))" : data === null ? "null" : typeof data;
    throw new TypeError(`${what} takes a Buffer or Uint8Array, got ${got}`);
  }
}
