/**
 * Writing a whole, uncompressed, unmasked message frame straight to the socket: what `ws`'s Sender
 * does for a server's messages, in one write instead of a corked pair.
 *
 * Why: `ws` writes the frame header and the payload as two chunks between `cork()` and
 * `uncork()`, which Node turns into a `writev` through its buffered-chunk list; for a small message
 * that bookkeeping, and the options objects `ws` builds per send, cost more than the message. Here
 * a small message is encoded once into a single Buffer (header, then the payload: a string is
 * UTF-8-encoded in place, so text costs no extra copy) and written with one `write()`. A large one
 * is written as `ws` does, header and payload corked together, the payload not copied.
 *
 * Only when `ws`'s Sender could have written the frame at once itself: it is idle (nothing queued
 * behind a compression or a Blob read) and not in the middle of a fragmented message, the
 * connection is the server's side (frames are not masked) and permessage-deflate is not in use.
 * Otherwise the caller sends through `ws`. The fields read here are `ws` 8's Sender state; if they
 * are not there, `directSender()` says no and everything goes through `ws`.
 * @module
 */
import type { Socket } from "node:net";

// At or under this payload size a frame is one Buffer; over it, header and payload are written
// corked, as ws does (copying a large payload costs more than the second chunk).
const COPY_LIMIT = 16 * 1024;

/** The part of ws 8's Sender whose state says whether a frame may go out now. */
interface SenderState {
  _state: number;
  _queue: unknown[];
  _firstFragment: boolean;
}

/** Whether `sender` (ws's `_sender`) has the fields this module relies on. */
export function isKnownSender(sender: unknown): sender is SenderState {
  if (typeof sender !== "object" || sender === null) return false;
  const s = sender as Partial<SenderState>;
  return typeof s._state === "number" && Array.isArray(s._queue) && typeof s._firstFragment === "boolean";
}

/** True when a whole message may be written directly now: the Sender is idle between messages. */
export function senderIdle(sender: SenderState): boolean {
  // ws's DEFAULT state is 0: no compression or Blob read in progress.
  return sender._state === 0 && sender._queue.length === 0 && sender._firstFragment;
}

/** Writes `data` as one unmasked, final text or binary frame. */
export function writeFrame(socket: Socket, data: string | Uint8Array, binary: boolean): void {
  const length = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
  const headerSize = length < 126 ? 2 : length < 65536 ? 4 : 10;
  if (length > COPY_LIMIT) {
    const header = Buffer.allocUnsafe(headerSize);
    writeHeader(header, length, binary);
    socket.cork();
    socket.write(header);
    socket.write(data);
    socket.uncork();
    return;
  }
  const frame = Buffer.allocUnsafe(headerSize + length);
  writeHeader(frame, length, binary);
  if (typeof data === "string") frame.write(data, headerSize, "utf8");
  else frame.set(data, headerSize);
  socket.write(frame);
}

// RFC 6455 §5.2: FIN and the opcode (1 text, 2 binary), then the payload length in 7 bits, or
// 126 and 16 bits, or 127 and 64 bits (the top 16 of which are 0 here), no mask bit.
function writeHeader(target: Buffer, length: number, binary: boolean): void {
  target[0] = binary ? 0x82 : 0x81;
  if (length < 126) {
    target[1] = length;
  } else if (length < 65536) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
  } else {
    target[1] = 127;
    target.writeUInt16BE(0, 2);
    target.writeUIntBE(length, 4, 6);
  }
}
