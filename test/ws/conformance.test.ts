/**
 * The WebSocket conformance suite (test/ws/helpers/conformance-cases.ts) against aiots/ws as a
 * server (serve() echoing) and as a client (connect() echoing), with a raw frame peer on the other
 * end. Prints a per-case report like Autobahn's; fails on any FAILED case.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTask, run, sleep } from "../../src/index.ts";
import { connect, serve, type WebSocket } from "../../src/ws.ts";
import { cases, type CaseContext, type ConformanceCase, type Outcome, type Verdict } from "./helpers/conformance-cases.ts";
import { closePayload, OP, RawServer, rawClient, ZStream, type FramePeer } from "./helpers/frame-peer.ts";

async function echoUntilClosed(ws: WebSocket): Promise<number | null> {
  try {
    for await (const message of ws) await ws.send(message);
  } catch {
    // the case decides what the close should have been
  }
  await ws.waitClosed();
  return ws.closeCode;
}

/** The close code an echo endpoint ended with, once it has. */
interface Ended {
  done: boolean;
  code: number | null;
}

function watch(ws: WebSocket): [Ended, Promise<void>] {
  const ended: Ended = { done: false, code: null };
  return [
    ended,
    echoUntilClosed(ws).then((code) => {
      ended.code = code;
      ended.done = true;
    }),
  ];
}

async function codeWithin(ended: Ended, seconds: number): Promise<number | null> {
  for (let i = 0; i < seconds * 100 && !ended.done; i++) await sleep(0.01);
  return ended.code;
}

function windowBits(params: string, name: string): number | undefined {
  const m = new RegExp(`${name}=(\\d+)`).exec(params);
  return m === null ? undefined : Number(m[1]);
}

async function runCase(c: ConformanceCase, peer: FramePeer, side: "server" | "client", closeCode: () => Promise<number | null>): Promise<Outcome> {
  const ctx: CaseContext = { peer, side, aiotsCloseCode: closeCode };
  if (c.deflate !== undefined) {
    const params = side === "server" ? (/sec-websocket-extensions:\s*([^\r\n]+)/i.exec(peer.handshake)?.[1] ?? "") : c.deflate.answer;
    if (!params.includes("permessage-deflate")) return { verdict: "FAILED", detail: `permessage-deflate was not accepted (${JSON.stringify(params)})` };
    for (const expected of side === "server" ? (c.deflate.expectParams ?? []) : []) {
      if (!params.includes(expected)) return { verdict: "FAILED", detail: `the handshake answer ${JSON.stringify(params)} lacks ${expected}` };
    }
    // The peer compresses within the window granted to its direction.
    ctx.outBits = windowBits(params, side === "server" ? "client_max_window_bits" : "server_max_window_bits") ?? 15;
    if (c.deflate.context === true) {
      ctx.zIn = new ZStream("inflate", 15);
      ctx.zOut = new ZStream("deflate", ctx.outBits);
    }
  }
  try {
    let outcome: Outcome;
    try {
      outcome = await c.run(ctx);
    } catch (error) {
      return { verdict: "FAILED", detail: `the case threw ${String(error)}` };
    }
    if (outcome.verdict === "OK" && outcome.closed !== true) {
      // Finish with a clean close, which must work after every passing case.
      await peer.send({ opcode: OP.close, payload: closePayload(1000) });
      const reply = await peer.read(10);
      if (typeof reply === "string" || reply.opcode !== OP.close) return { verdict: "FAILED", detail: `no close reply at the end (${typeof reply === "string" ? reply : reply.opcode})` };
      const code = await closeCode();
      if (code !== 1000) return { verdict: "FAILED", detail: `closeCode ${code} after a normal close` };
    }
    return outcome;
  } finally {
    ctx.zIn?.close();
    ctx.zOut?.close();
    peer.close();
  }
}

async function asServer(): Promise<Map<string, Outcome>> {
  const results = new Map<string, Outcome>();
  const endpoints = new Map<string, Ended>();
  await using server = await serve(async (ws) => {
    const [ended, done] = watch(ws);
    endpoints.set(ws.request.path, ended);
    await done;
  }, "127.0.0.1", 0, { pingInterval: null });
  const port = (server.sockets[0]!.getsockname() as [string, number])[1];
  for (const c of cases) {
    const path = `/${c.id}`;
    let peer: FramePeer;
    try {
      peer = await rawClient(port, path, c.deflate?.offer);
    } catch (error) {
      results.set(c.id, { verdict: "FAILED", detail: `handshake: ${String(error)}` });
      continue;
    }
    while (!endpoints.has(path)) await sleep(0.001);
    results.set(c.id, await runCase(c, peer, "server", () => codeWithin(endpoints.get(path)!, 5)));
  }
  return results;
}

async function asClient(): Promise<Map<string, Outcome>> {
  const results = new Map<string, Outcome>();
  const raw = new RawServer();
  const port = await raw.listen();
  try {
    for (const c of cases) {
      raw.extensions = () => c.deflate?.answer;
      let ended: Ended | null = null;
      const client = createTask(async () => {
        const [e, done] = watch(await connect(`ws://127.0.0.1:${port}/${c.id}`, { pingInterval: null }));
        ended = e;
        await done;
      });
      const peer = await raw.next();
      while (ended === null) await sleep(0.001);
      results.set(c.id, await runCase(c, peer, "client", () => codeWithin(ended!, 5)));
      if (!client.done()) client.cancel();
      await client.then(() => {}, () => {});
    }
  } finally {
    await raw.close();
  }
  return results;
}

function report(server: Map<string, Outcome>, client: Map<string, Outcome>): string {
  const lines = ["aiots/ws conformance (RFC 6455, RFC 7692; Autobahn's section numbers)", ""];
  const w = Math.max(...cases.map((c) => c.description.length));
  lines.push(`${"case".padEnd(7)} ${"description".padEnd(w)}  ${"server".padEnd(12)} client`);
  for (const c of cases) {
    const s = server.get(c.id)!;
    const k = client.get(c.id)!;
    lines.push(`${c.id.padEnd(7)} ${c.description.padEnd(w)}  ${s.verdict.padEnd(12)} ${k.verdict}`);
    for (const [side, o] of [["server", s], ["client", k]] as const) {
      if (o.verdict !== "OK") lines.push(`        ${side}: ${o.detail}`);
    }
  }
  const tally = (m: Map<string, Outcome>): string => {
    const counts = new Map<Verdict, number>();
    for (const o of m.values()) counts.set(o.verdict, (counts.get(o.verdict) ?? 0) + 1);
    return [...counts].map(([v, n]) => `${n} ${v}`).join(", ");
  };
  lines.push("", `as a server: ${tally(server)}`, `as a client: ${tally(client)}`);
  return lines.join("\n");
}

void test(`conformance: ${cases.length} cases against aiots/ws as a server and as a client`, async () => {
  await run(async () => {
    const server = await asServer();
    const client = await asClient();
    const text = report(server, client);
    process.stdout.write(`${text}\n`);
    const failures = [...server, ...client].filter(([, o]) => o.verdict === "FAILED");
    assert.deepEqual(failures.map(([id, o]) => `${id}: ${o.detail}`), [], text);
  });
});
