/**
 * The conformance cases, from RFC 6455 and RFC 7692, numbered by Autobahn|Testsuite's sections
 * (1 framing, 2 pings/pongs, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close,
 * 9 limits, 12-13 compression). Each case drives a FramePeer against an aiots/ws echo endpoint (a
 * server, or a client that echoes) and judges the outcome as Autobahn does: OK, NON-STRICT (allowed
 * by the RFC but not the best behaviour, such as dropping TCP instead of sending a close frame),
 * FAILED, or INFORMATIONAL.
 */
import * as zlib from "node:zlib";
import { closePayload, deflateMessage, OP, type FramePeer, ZStream } from "./frame-peer.ts";

export type Verdict = "OK" | "NON-STRICT" | "FAILED" | "INFORMATIONAL";

export interface CaseContext {
  peer: FramePeer;
  /** Which side aiots plays. */
  side: "server" | "client";
  /** Resolves to the close code aiots reports once its connection has closed (null: still open after 5 s). */
  aiotsCloseCode(): Promise<number | null>;
  /** Compressors when permessage-deflate was negotiated with context takeover (case 13.2). */
  zIn?: ZStream;
  zOut?: ZStream;
  /** The window the peer compresses with (the negotiated one for its direction). */
  outBits?: number;
}

export interface Outcome {
  verdict: Verdict;
  detail: string;
  /** The case finished the closing handshake itself. */
  closed?: boolean;
}

/** permessage-deflate for a case: the offer (when the peer is the client) and the answer (peer is the server). */
export interface DeflateSetup {
  offer: string;
  answer: string;
  context?: boolean;
  /** What the handshake response of an aiots server must contain. */
  expectParams?: string[];
}

export interface ConformanceCase {
  id: string;
  description: string;
  deflate?: DeflateSetup;
  run(ctx: CaseContext): Promise<Outcome>;
}

const NO_CONTEXT: DeflateSetup = {
  offer: "permessage-deflate; client_max_window_bits; server_no_context_takeover; client_no_context_takeover",
  answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
};

const ok = (detail = ""): Outcome => ({ verdict: "OK", detail });
const failed = (detail: string): Outcome => ({ verdict: "FAILED", detail });

function show(payload: Buffer): string {
  return payload.length > 40 ? `${payload.length} bytes` : JSON.stringify(payload.toString("latin1"));
}

function inflate(payload: Buffer): Buffer {
  return zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { windowBits: 15, finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/** Expects the echo of one message (inflating it when compressed). */
async function expectEcho(ctx: CaseContext, opcode: number, payload: Buffer): Promise<Outcome | null> {
  const got = await ctx.peer.readMessage(10);
  if (typeof got === "string") return failed(`expected the echo, got ${got}`);
  if (!("rsv1" in got)) return failed(`expected the echo, got a control frame (opcode ${got.opcode})`);
  let body = got.payload;
  if (got.rsv1) body = ctx.zIn !== undefined ? await ctx.zIn.process(body) : inflate(body);
  if (got.opcode !== opcode) return failed(`echo with opcode ${got.opcode}, expected ${opcode}`);
  if (!body.equals(payload)) return failed(`echo ${show(body)} differs from ${show(payload)}`);
  return null;
}

/** Sends a whole message, compressed when `compress` (each message on its own, or with context). */
async function sendMessage(ctx: CaseContext, opcode: number, payload: Buffer, compress = false): Promise<void> {
  if (!compress) return ctx.peer.send({ opcode, payload });
  const body = ctx.zOut !== undefined ? await ctx.zOut.process(payload) : deflateMessage(payload, ctx.outBits);
  return ctx.peer.send({ opcode, payload: body, rsv: 4 });
}

/**
 * Expects aiots to fail the connection: a close frame with one of `codes` (OK), or the TCP
 * connection dropped without one (NON-STRICT); anything echoed is FAILED. aiots must then report
 * that code as its `closeCode`.
 */
async function expectFail(ctx: CaseContext, codes: number[]): Promise<Outcome> {
  for (;;) {
    const frame = await ctx.peer.read(10);
    if (frame === "timeout") return failed("the connection was neither failed nor closed");
    if (frame === "eof") return { verdict: "NON-STRICT", detail: "TCP closed without a close frame", closed: true };
    if (frame.opcode === OP.pong) continue;
    if (frame.opcode !== OP.close) return failed(`got opcode ${frame.opcode} (${show(frame.payload)}) instead of a close`);
    const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
    await ctx.peer.send({ opcode: OP.close, payload: frame.payload.subarray(0, 2) });
    if (!codes.includes(code)) return { ...failed(`closed with ${code}, expected ${codes.join(" or ")}`), closed: true };
    const reported = await ctx.aiotsCloseCode();
    if (reported !== code) return { ...failed(`sent close ${code} but reports closeCode ${reported}`), closed: true };
    return { verdict: "OK", detail: `closed with ${code}, closeCode ${reported}`, closed: true };
  }
}

/** Sends a close with `payload` and expects the reply with `replyCode` (null: an empty close), then EOF. */
async function expectCloseReply(ctx: CaseContext, payload: Buffer, replyCode: number | null): Promise<Outcome> {
  await ctx.peer.send({ opcode: OP.close, payload });
  for (;;) {
    const frame = await ctx.peer.read(10);
    if (typeof frame === "string") return { ...failed(`no close reply (${frame})`), closed: true };
    if (frame.opcode === OP.pong) continue;
    if (frame.opcode !== OP.close) return { ...failed(`got opcode ${frame.opcode} (${show(frame.payload)}) after the close`), closed: true };
    const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
    if (code !== replyCode && !(replyCode === null && code === 1000)) return { ...failed(`close reply ${code}, expected ${replyCode}`), closed: true };
    const end = await ctx.peer.read(10);
    if (end !== "eof" && ctx.side === "server") return { ...failed(`the server did not close TCP after the handshake (${typeof end === "string" ? end : end.opcode})`), closed: true };
    const reported = await ctx.aiotsCloseCode();
    const expected = replyCode ?? 1005;
    if (reported !== expected) return { ...failed(`closeCode ${reported}, expected ${expected}`), closed: true };
    return { verdict: "OK", detail: `reply ${code ?? "empty"}`, closed: true };
  }
}

async function echoCase(ctx: CaseContext, opcode: number, payload: Buffer, chunkSize?: number, compress = false): Promise<Outcome> {
  if (compress) await sendMessage(ctx, opcode, payload, true);
  else await ctx.peer.send({ opcode, payload }, chunkSize);
  return (await expectEcho(ctx, opcode, payload)) ?? ok();
}

const cases: ConformanceCase[] = [];
const add = (id: string, description: string, run: ConformanceCase["run"], deflate?: DeflateSetup): void => {
  cases.push({ id, description, run, deflate });
};

// 1 Framing
const sizes = [0, 125, 126, 127, 128, 65535, 65536];
sizes.forEach((n, i) => add(`1.1.${i + 1}`, `text message of ${n} bytes`, (c) => echoCase(c, OP.text, Buffer.alloc(n, "*"))));
add("1.1.8", "text message of 65536 bytes written in 997-byte TCP chunks", (c) => echoCase(c, OP.text, Buffer.alloc(65536, "*"), 997));
sizes.forEach((n, i) => add(`1.2.${i + 1}`, `binary message of ${n} bytes`, (c) => echoCase(c, OP.binary, Buffer.alloc(n, 0xfe))));
add("1.2.8", "binary message of 65536 bytes written in 997-byte TCP chunks", (c) => echoCase(c, OP.binary, Buffer.alloc(65536, 0xfe), 997));
add("1.3.1", "a frame masked the wrong way for its direction", async (c) => {
  const { encodeFrame } = await import("./frame-peer.ts");
  await c.peer.write(encodeFrame({ opcode: OP.text, payload: "hi", mask: !c.peer.masks }));
  return expectFail(c, [1002]);
});

// 2 Pings and pongs
const pingCase = (id: string, description: string, payload: Buffer, chunkSize?: number): void =>
  add(id, description, async (c) => {
    await c.peer.send({ opcode: OP.ping, payload }, chunkSize);
    const frame = await c.peer.read(10);
    if (typeof frame === "string") return failed(`no pong (${frame})`);
    if (frame.opcode !== OP.pong || !frame.payload.equals(payload)) return failed(`got opcode ${frame.opcode} ${show(frame.payload)}`);
    return ok();
  });
pingCase("2.1", "ping without payload", Buffer.alloc(0));
pingCase("2.2", "ping with a text payload", Buffer.from("Hello, world!"));
pingCase("2.3", "ping with a binary payload", Buffer.from([0, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0, 0xff]));
pingCase("2.4", "ping with a 125-byte payload (the largest)", Buffer.alloc(125, 0xfe));
add("2.5", "ping with a 126-byte payload (too large for a control frame)", async (c) => {
  await c.peer.send({ opcode: OP.ping, payload: Buffer.alloc(126, 0xfe) });
  return expectFail(c, [1002]);
});
add("2.6", "unsolicited pong without payload, then a text message", async (c) => {
  await c.peer.send({ opcode: OP.pong });
  return echoCase(c, OP.text, Buffer.from("after the pong"));
});
add("2.7", "unsolicited pong with payload, then a text message", async (c) => {
  await c.peer.send({ opcode: OP.pong, payload: "unsolicited" });
  return echoCase(c, OP.text, Buffer.from("after the pong"));
});
add("2.8", "10 pings in a row are each answered", async (c) => {
  for (let i = 0; i < 10; i++) await c.peer.send({ opcode: OP.ping, payload: `ping ${i}` });
  for (let i = 0; i < 10; i++) {
    const frame = await c.peer.read(10);
    if (typeof frame === "string" || frame.opcode !== OP.pong) return failed(`pong ${i} missing`);
    if (frame.payload.toString() !== `ping ${i}`) return failed(`pong ${i} carried ${show(frame.payload)}`);
  }
  return ok();
});
pingCase("2.9", "ping written one byte at a time", Buffer.from("slow ping"), 1);

// 3 Reserved bits (no extension negotiated)
const rsvCase = (id: string, rsv: number, opcode: number, what: string): void =>
  add(id, `${what} with RSV bits ${rsv.toString(2).padStart(3, "0")} and no extension`, async (c) => {
    await c.peer.send({ opcode, payload: opcode === OP.binary ? Buffer.from([1, 2]) : "x", rsv });
    return expectFail(c, [1002]);
  });
rsvCase("3.1", 4, OP.text, "text");
rsvCase("3.2", 2, OP.text, "text");
rsvCase("3.3", 1, OP.text, "text");
rsvCase("3.4", 3, OP.binary, "binary");
rsvCase("3.5", 7, OP.binary, "binary");
rsvCase("3.6", 2, OP.ping, "ping");
rsvCase("3.7", 1, OP.close, "close");

// 4 Opcodes
[3, 4, 5, 6, 7].forEach((op, i) =>
  add(`4.1.${i + 1}`, `reserved data opcode ${op}${i === 1 ? " after a valid message" : ""}`, async (c) => {
    if (i === 1) {
      const echoed = await echoCase(c, OP.text, Buffer.from("valid first"));
      if (echoed.verdict !== "OK") return echoed;
    }
    await c.peer.send({ opcode: op, payload: "reserved" });
    return expectFail(c, [1002]);
  }),
);
[11, 12, 13, 14, 15].forEach((op, i) =>
  add(`4.2.${i + 1}`, `reserved control opcode ${op}`, async (c) => {
    await c.peer.send({ opcode: op, payload: "" });
    return expectFail(c, [1002]);
  }),
);

// 5 Fragmentation
add("5.1", "a fragmented ping (control frames are never fragmented)", async (c) => {
  await c.peer.send({ opcode: OP.ping, payload: "frag", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: "ment" });
  return expectFail(c, [1002]);
});
add("5.2", "a fragmented pong", async (c) => {
  await c.peer.send({ opcode: OP.pong, payload: "frag", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: "ment" });
  return expectFail(c, [1002]);
});
add("5.3", "text in two fragments is one message", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: "frag", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: "ment" });
  return (await expectEcho(c, OP.text, Buffer.from("fragment"))) ?? ok();
});
add("5.4", "a ping between two fragments is answered at once", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: "frag", fin: false });
  await c.peer.send({ opcode: OP.ping, payload: "in between" });
  const pong = await c.peer.read(10);
  if (typeof pong === "string" || pong.opcode !== OP.pong) return failed("no pong before the message ended");
  await c.peer.send({ opcode: OP.cont, payload: "ment" });
  return (await expectEcho(c, OP.text, Buffer.from("fragment"))) ?? ok();
});
add("5.5", "a continuation frame with nothing to continue", async (c) => {
  await c.peer.send({ opcode: OP.cont, payload: "orphan" });
  return expectFail(c, [1002]);
});
add("5.6", "a new text frame while a fragmented message is open", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: "frag", fin: false });
  await c.peer.send({ opcode: OP.text, payload: "again" });
  return expectFail(c, [1002]);
});
add("5.7", "a fin=0 continuation as the first frame", async (c) => {
  await c.peer.send({ opcode: OP.cont, payload: "orphan", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: "end" });
  return expectFail(c, [1002]);
});
add("5.8", "binary in 100 one-byte fragments", async (c) => {
  const body = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  for (let i = 0; i < 100; i++) await c.peer.send({ opcode: i === 0 ? OP.binary : OP.cont, payload: body.subarray(i, i + 1), fin: i === 99 });
  return (await expectEcho(c, OP.binary, body)) ?? ok();
});
add("5.9", "empty first, middle and last fragments", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: "", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: "mid", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: "", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: "" });
  return (await expectEcho(c, OP.text, Buffer.from("mid"))) ?? ok();
});
add("5.10", "a close in the middle of a fragmented message", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: "frag", fin: false });
  return expectCloseReply(c, closePayload(1000), 1000);
});

// 6 UTF-8
const validText: [string, Buffer][] = [
  ["empty text", Buffer.alloc(0)],
  ["two-byte characters", Buffer.from("Hello-µ@ßöäüàá-UTF-8!!")],
  ["Greek κόσμε", Buffer.from("κόσμε")],
  ["four-byte characters (U+1F600, U+10FFFF)", Buffer.from("\u{1F600}\u{10FFFF}")],
  ["U+FFFF and U+E000 (noncharacter, private use)", Buffer.from("\uFFFF\uE000")],
];
validText.forEach(([name, bytes], i) => add(`6.1.${i + 1}`, `valid UTF-8: ${name}`, (c) => echoCase(c, OP.text, bytes)));
add("6.2.1", "valid UTF-8 split inside a four-byte character across three fragments", async (c) => {
  const bytes = Buffer.from("a\u{1F600}b");
  await c.peer.send({ opcode: OP.text, payload: bytes.subarray(0, 2), fin: false });
  await c.peer.send({ opcode: OP.cont, payload: bytes.subarray(2, 4), fin: false });
  await c.peer.send({ opcode: OP.cont, payload: bytes.subarray(4) });
  return (await expectEcho(c, OP.text, bytes)) ?? ok();
});
add("6.2.2", "valid UTF-8 fragmented one byte per frame", async (c) => {
  const bytes = Buffer.from("κόσμε\u{1F600}");
  for (let i = 0; i < bytes.length; i++) await c.peer.send({ opcode: i === 0 ? OP.text : OP.cont, payload: bytes.subarray(i, i + 1), fin: i === bytes.length - 1 });
  return (await expectEcho(c, OP.text, bytes)) ?? ok();
});
const invalid: [string, number[]][] = [
  ["a lone continuation byte 0x80", [0x41, 0x80, 0x42]],
  ["an overlong '/' (C0 AF)", [0xc0, 0xaf]],
  ["an overlong NUL (E0 80 80)", [0xe0, 0x80, 0x80]],
  ["a UTF-16 surrogate (ED A0 80)", [0xed, 0xa0, 0x80]],
  ["a code point above U+10FFFF (F4 90 80 80)", [0xf4, 0x90, 0x80, 0x80]],
  ["bytes FE and FF", [0xfe, 0xff]],
  ["a sequence cut short at the end (CE)", [0xce, 0xba, 0xce]],
  ["a five-byte sequence (F8 88 80 80 80)", [0xf8, 0x88, 0x80, 0x80, 0x80]],
];
invalid.forEach(([name, bytes], i) =>
  add(`6.3.${i + 1}`, `invalid UTF-8: ${name}`, async (c) => {
    await c.peer.send({ opcode: OP.text, payload: Buffer.from(bytes) });
    return expectFail(c, [1007]);
  }),
);
add("6.4.1", "invalid UTF-8 in the second fragment of a message", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: "κόσμε", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: Buffer.from([0xed, 0xa0, 0x80]), fin: false });
  await c.peer.send({ opcode: OP.cont, payload: "edited" });
  return expectFail(c, [1007]);
});
add("6.4.2", "a character cut at the end of a fragmented message", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: "κόσμε", fin: false });
  await c.peer.send({ opcode: OP.cont, payload: Buffer.from([0xf0, 0x9f]) });
  return expectFail(c, [1007]);
});
add("6.4.3", "invalid UTF-8 in a close reason", async (c) => {
  await c.peer.send({ opcode: OP.close, payload: closePayload(1000, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80])) });
  return expectFail(c, [1007]);
});

// 7 Close handling and codes
add("7.1.1", "a close with 1000 after a message", async (c) => {
  const echoed = await echoCase(c, OP.text, Buffer.from("Hello"));
  if (echoed.verdict !== "OK") return echoed;
  return expectCloseReply(c, closePayload(1000), 1000);
});
add("7.1.2", "a text frame after our close frame is not echoed", async (c) => {
  await c.peer.send({ opcode: OP.close, payload: closePayload(1000) });
  await c.peer.send({ opcode: OP.text, payload: "after close" });
  const frame = await c.peer.read(10);
  if (typeof frame === "string" || frame.opcode !== OP.close) return { ...failed(`expected the close reply, got ${typeof frame === "string" ? frame : frame.opcode}`), closed: true };
  const next = await c.peer.read(3);
  if (next !== "eof" && next !== "timeout") return { ...failed(`got opcode ${next.opcode} after the close`), closed: true };
  return { ...ok(), closed: true };
});
add("7.1.3", "a ping after our close frame gets no pong", async (c) => {
  await c.peer.send({ opcode: OP.close, payload: closePayload(1000) });
  await c.peer.send({ opcode: OP.ping, payload: "after close" });
  const frame = await c.peer.read(10);
  if (typeof frame === "string" || frame.opcode !== OP.close) return { ...failed("expected the close reply"), closed: true };
  const next = await c.peer.read(3);
  if (next !== "eof" && next !== "timeout") return { ...failed(`got opcode ${next.opcode} after the close`), closed: true };
  return { ...ok(), closed: true };
});
add("7.3.1", "a close without payload gets a close without a code", (c) => expectCloseReply(c, Buffer.alloc(0), null));
add("7.3.2", "a close with a one-byte payload", async (c) => {
  await c.peer.send({ opcode: OP.close, payload: Buffer.from([0x03]) });
  return expectFail(c, [1002]);
});
add("7.3.3", "a close with a reason", (c) => expectCloseReply(c, closePayload(1000, "Hello World!"), 1000));
add("7.3.4", "a close with a 123-byte reason (the largest)", (c) => expectCloseReply(c, closePayload(1000, "*".repeat(123)), 1000));
add("7.3.5", "a close with a 124-byte reason (payload over 125)", async (c) => {
  await c.peer.send({ opcode: OP.close, payload: closePayload(1000, "*".repeat(124)) });
  return expectFail(c, [1002]);
});
[1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].forEach((code, i) =>
  add(`7.7.${i + 1}`, `close with valid code ${code} is answered with ${code}`, (c) => expectCloseReply(c, closePayload(code), code)),
);
[0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535].forEach((code, i) =>
  add(`7.9.${i + 1}`, `close with invalid code ${code}`, async (c) => {
    await c.peer.send({ opcode: OP.close, payload: closePayload(code) });
    return expectFail(c, [1002]);
  }),
);

// 9 Limits and large messages (aiots's default maxSize: 1 MiB)
const MiB = 1024 * 1024;
[64 * 1024, 256 * 1024, MiB].forEach((n, i) => add(`9.1.${i + 1}`, `text message of ${n / 1024} KiB`, (c) => echoCase(c, OP.text, Buffer.alloc(n, "*"))));
[64 * 1024, 256 * 1024, MiB].forEach((n, i) => add(`9.2.${i + 1}`, `binary message of ${n / 1024} KiB`, (c) => echoCase(c, OP.binary, Buffer.alloc(n, 0xfe))));
add("9.3.1", "a 1 MiB message in 4 KiB fragments", async (c) => {
  const body = Buffer.alloc(MiB, "f");
  for (let i = 0; i < MiB; i += 4096) await c.peer.send({ opcode: i === 0 ? OP.text : OP.cont, payload: body.subarray(i, i + 4096), fin: i + 4096 >= MiB });
  return (await expectEcho(c, OP.text, body)) ?? ok();
});
add("9.4.1", "a message of maxSize + 1 byte", async (c) => {
  await c.peer.send({ opcode: OP.binary, payload: Buffer.alloc(MiB + 1) });
  return expectFail(c, [1009]);
});
add("9.4.2", "fragments adding up to more than maxSize", async (c) => {
  for (let i = 0; i < 17; i++) await c.peer.send({ opcode: i === 0 ? OP.binary : OP.cont, payload: Buffer.alloc(64 * 1024), fin: i === 16 });
  return expectFail(c, [1009]);
});
add("9.5.1", "1000 small messages sent back to back are echoed in order", async (c) => {
  for (let i = 0; i < 1000; i++) await c.peer.send({ opcode: OP.text, payload: `message ${i}` });
  for (let i = 0; i < 1000; i++) {
    const wrong = await expectEcho(c, OP.text, Buffer.from(`message ${i}`));
    if (wrong !== null) return failed(`message ${i}: ${wrong.detail}`);
  }
  return ok();
});

// 12 Compression (RFC 7692), each message compressed on its own
[16, 64, 256, 1024, 4096, 16384, 65536, 262144].forEach((n, i) =>
  add(`12.1.${i + 1}`, `compressed text message of ${n} bytes`, (c) => echoCase(c, OP.text, Buffer.from("compressible text ".repeat(Math.ceil(n / 18)).slice(0, n)), undefined, true), NO_CONTEXT),
);
add("12.1.9", "the echo of a 4 KiB message comes back compressed (RSV1 set)", async (c) => {
  const body = Buffer.from("compress me, compress me. ".repeat(160));
  await sendMessage(c, OP.text, body, true);
  const got = await c.peer.readMessage(10);
  if (typeof got === "string" || !("rsv1" in got)) return failed(`no echo (${typeof got === "string" ? got : got.opcode})`);
  if (!got.rsv1) return failed("the echo was sent uncompressed");
  const inflated = inflate(got.payload);
  if (!inflated.equals(body)) return failed("the echo inflates to something else");
  return ok(`${body.length} bytes sent as ${got.payload.length}`);
}, NO_CONTEXT);
add("12.2.1", "compressed binary message of random bytes (incompressible)", (c) => echoCase(c, OP.binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)), undefined, true), NO_CONTEXT);
add("12.2.2", "a compressed message in three fragments (RSV1 on the first only)", async (c) => {
  const body = Buffer.from("fragmented and compressed ".repeat(200));
  const z = deflateMessage(body);
  const third = Math.floor(z.length / 3);
  await c.peer.send({ opcode: OP.text, payload: z.subarray(0, third), rsv: 4, fin: false });
  await c.peer.send({ opcode: OP.cont, payload: z.subarray(third, 2 * third), fin: false });
  await c.peer.send({ opcode: OP.cont, payload: z.subarray(2 * third) });
  return (await expectEcho(c, OP.text, body)) ?? ok();
}, NO_CONTEXT);
add("12.2.3", "an uncompressed message (RSV1 clear) on a compressed connection", (c) => echoCase(c, OP.text, Buffer.from("plain on a deflate connection")), NO_CONTEXT);
add("12.3.1", "RSV1 on a continuation frame", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: deflateMessage("abc"), rsv: 4, fin: false });
  await c.peer.send({ opcode: OP.cont, payload: deflateMessage("def"), rsv: 4 });
  return expectFail(c, [1002]);
}, NO_CONTEXT);
add("12.3.2", "RSV1 on a ping", async (c) => {
  await c.peer.send({ opcode: OP.ping, payload: "x", rsv: 4 });
  return expectFail(c, [1002]);
}, NO_CONTEXT);
add("12.4.1", "a compressed message that inflates past maxSize (a zip bomb)", async (c) => {
  await c.peer.send({ opcode: OP.binary, payload: deflateMessage(Buffer.alloc(4 * MiB)), rsv: 4 });
  return expectFail(c, [1009]);
}, NO_CONTEXT);
add("12.4.2", "RSV1 with data that is not deflate", async (c) => {
  await c.peer.send({ opcode: OP.binary, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), rsv: 4 });
  return expectFail(c, [1002, 1007]);
}, NO_CONTEXT);
add("12.4.3", "compressed text that inflates to invalid UTF-8", async (c) => {
  await c.peer.send({ opcode: OP.text, payload: deflateMessage(Buffer.from([0x41, 0xed, 0xa0, 0x80])), rsv: 4 });
  return expectFail(c, [1007]);
}, NO_CONTEXT);

// 13 Compression parameters
const repeatMessages = async (c: CaseContext, count: number): Promise<Outcome> => {
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(`message ${i}: ${"the same words again and again, ".repeat(80)}`);
    await sendMessage(c, OP.text, body, true);
    const wrong = await expectEcho(c, OP.text, body);
    if (wrong !== null) return failed(`message ${i}: ${wrong.detail}`);
  }
  return ok();
};
add("13.1.1", "no context takeover either way, 10 messages", (c) => repeatMessages(c, 10), { ...NO_CONTEXT, expectParams: ["server_no_context_takeover", "client_no_context_takeover"] });
add("13.2.1", "context takeover both ways (the default), 10 messages", (c) => repeatMessages(c, 10), {
  offer: "permessage-deflate; client_max_window_bits",
  answer: "permessage-deflate",
  context: true,
  expectParams: ["server_max_window_bits=12", "client_max_window_bits=12"],
});
add("13.3.1", "a 9-bit server window asked for by the client", (c) => repeatMessages(c, 5), {
  offer: "permessage-deflate; server_max_window_bits=9; server_no_context_takeover; client_no_context_takeover",
  answer: "permessage-deflate; server_max_window_bits=9; server_no_context_takeover; client_no_context_takeover",
  expectParams: ["server_max_window_bits=9"],
});
add("13.4.1", "a 9-bit client window", (c) => repeatMessages(c, 5), {
  offer: "permessage-deflate; client_max_window_bits=9; server_no_context_takeover; client_no_context_takeover",
  answer: "permessage-deflate; client_max_window_bits=9; server_no_context_takeover; client_no_context_takeover",
  expectParams: ["client_max_window_bits=9"],
});
add("13.5.1", "a client that offers no window parameter is still accepted", (c) => repeatMessages(c, 3), {
  offer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
});

export { cases };
