/**
 * Interoperability with Python's websockets (Debian's python3-websockets, run with /usr/bin/python3)
 * both ways, with and without permessage-deflate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { run } from "../../src/index.ts";
import { connect, ConnectionClosedError, serve, type WebSocket } from "../../src/ws.ts";

const here = fileURLToPath(new URL("./python/", import.meta.url));
const python = "/usr/bin/python3";

async function withPythonServer(args: string[], body: (port: number) => Promise<void>): Promise<void> {
  const child = spawn(python, [`${here}websockets_server.py`, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(child, "exit");
  try {
    const lines = createInterface({ input: child.stdout });
    const [first] = (await Promise.race([once(lines, "line"), exited.then(() => [null])])) as [string | null];
    if (first === null) throw new Error("the Python websockets server exited before printing its port");
    await body(Number(first));
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

function pythonClient(url: string, args: string[] = []): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(python, [`${here}websockets_client.py`, url, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`python client failed: ${stderr}`, { cause: error }));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

for (const mode of ["deflate", "plain"] as const) {
  void test(`aiots client → Python websockets server (${mode})`, async () => {
    await run(async () => {
      await withPythonServer(mode === "plain" ? ["plain"] : [], async (port) => {
        await using ws = await connect(`ws://127.0.0.1:${port}/extensions`, { maxSize: 4 * 1024 * 1024 });
        const negotiated = (await ws.recv()) as string;
        if (mode === "deflate") {
          // Our offer, as Python saw and answered it.
          assert.match(negotiated, /^permessage-deflate/);
          assert.match(ws.extensions, /^permessage-deflate/);
        } else {
          assert.equal(negotiated, "");
          assert.equal(ws.extensions, "");
        }
        await ws.send("hello");
        assert.equal(await ws.recv(), "hello");
        await ws.send(new Uint8Array([9, 8, 7]));
        assert.deepEqual(await ws.recv(), Buffer.from([9, 8, 7]));
        const big = "aiots ".repeat(50_000);
        await ws.send(big);
        assert.equal(await ws.recv(), big);
        await ws.send((async function* () {
          yield "one ";
          yield "fragmented ";
          yield "message";
        })());
        assert.equal(await ws.recv(), "one fragmented message");
        const rtt = await ws.ping("from aiots");
        assert.ok(rtt >= 0);
        await ws.close(1000, "done");
        assert.equal(ws.closeCode, 1000);

        const closing = await connect(`ws://127.0.0.1:${port}/close-4000`);
        await assert.rejects(closing.recv(), (e: unknown) => e instanceof ConnectionClosedError && e.code === 4000 && e.reason === "bye");
        assert.equal(closing.closeCode, 4000);
        assert.equal(closing.closeReason, "bye");
      });
    });
  });

  void test(`Python websockets client → aiots serve() (${mode})`, async () => {
    await run(async () => {
      let closeCode: number | null = null;
      let closeReason: string | null = null;
      await using server = await serve(async (ws: WebSocket) => {
        try {
          for await (const message of ws) await ws.send(message);
        } catch (error) {
          if (!(error instanceof ConnectionClosedError)) throw error;
        }
        closeCode = ws.closeCode;
        closeReason = ws.closeReason;
      }, "127.0.0.1", 0, { maxSize: 4 * 1024 * 1024 });
      const port = (server.sockets[0]!.getsockname() as [string, number])[1];
      const seen = await pythonClient(`ws://127.0.0.1:${port}/py`, mode === "plain" ? ["plain"] : []);
      if (mode === "deflate") {
        assert.match(String(seen.extensions), /^permessage-deflate/);
        assert.match(String(seen.extensions), /server_max_window_bits=12/);
        assert.match(String(seen.extensions), /client_max_window_bits=12/);
      } else {
        assert.equal(seen.extensions, "");
      }
      assert.equal(seen.text, "hello from python");
      assert.deepEqual(seen.binary, [0, 1, 2]);
      assert.equal(seen.big_ok, true);
      assert.equal(seen.fragmented, "fragmented");
      assert.equal(seen.pong_rtt_ok, true);
      assert.equal(seen.close_code, 4001);
      for (let i = 0; i < 200 && closeCode === null; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(closeCode, 4001);
      assert.equal(closeReason, "python says bye");
    });
  });
}
