/**
 * Seeded stress: many concurrent `write()`/`drain()` loops whose peers vanish at random moments,
 * over TCP (reset), Unix sockets (closed) and pipes (reader closed). Every loop must end with a
 * connection error after a bounded number of writes, while a task sleeping 10 ms keeps waking and
 * memory stays bounded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  run,
  gather,
  sleep,
  getRunningLoop,
  openConnection,
  openUnixConnection,
  startServer,
  startUnixServer,
  StreamReader,
  StreamReaderProtocol,
  StreamWriter,
  type Server,
} from "../../src/index.ts";
import { captureLoopErrors } from "../helpers/index.ts";
import { addressOf, tempDir } from "../helpers/net.ts";
import { seeded } from "../helpers/stress.ts";
import { fifoPair, ticker, writeUntilError } from "../helpers/dead-peer.ts";

const ROUNDS = 8;
const CONNECTIONS = 6;
const MAX_WRITES = 100_000;

/** A server whose handler reads a random amount, waits a random time, then drops the connection. */
async function vanishingServer(random: () => number, listen: (handler: (r: StreamReader, w: StreamWriter) => Promise<void>) => Promise<Server>, reset: boolean): Promise<Server> {
  return listen(async (reader, writer) => {
    const take = Math.floor(random() * 256 * 1024);
    const delay = random() * 0.03;
    if (take > 0) await reader.read(take).catch(() => Buffer.alloc(0));
    await sleep(delay);
    const socket = writer.getExtraInfo("socket") as net.Socket;
    if (reset) socket.resetAndDestroy();
    else socket.destroy();
  });
}

function chunkSize(random: () => number): number {
  return 1 + Math.floor(random() ** 2 * 64 * 1024);
}

function checkOutcome(kind: string, outcome: { writes: number; error: Error | null }): void {
  assert.ok(outcome.error instanceof Error, `${kind}: no error in ${outcome.writes} writes`);
  assert.match((outcome.error as NodeJS.ErrnoException).code ?? "", /^(ECONNRESET|EPIPE)$/, `${kind}: ${String(outcome.error)}`);
  assert.ok(outcome.writes < MAX_WRITES, `${kind}: ${outcome.writes} writes`);
}

async function streamRounds(kind: string, seed: number, connect: () => Promise<[StreamReader, StreamWriter]>, serverFor: (random: () => number) => Promise<Server>): Promise<void> {
  const random = seeded(seed);
  const errors = captureLoopErrors();
  const rssBefore = process.memoryUsage().rss;
  const tick = ticker(0.01);
  for (let round = 0; round < ROUNDS; round++) {
    await using server = await serverFor(random);
    void server;
    const outcomes = await gather(
      ...Array.from({ length: CONNECTIONS }, async () => {
        const [reader, writer] = await connect();
        const outcome = await writeUntilError(writer, Buffer.alloc(chunkSize(random)), MAX_WRITES, 20_000);
        // The loss reached the reader too.
        await assert.rejects(reader.read(1));
        writer.close();
        return outcome;
      }),
    );
    for (const outcome of outcomes) checkOutcome(kind, outcome);
  }
  const ticks = await tick.stop();
  assert.ok(ticks >= 1, `${kind}: the sleeping task never woke`);
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 256 * 1024 * 1024, `${kind}: RSS grew by ${grown} bytes`);
  // Debug mode reports a slow step (hundreds of 64 KiB writes between two I/O turns on a loaded
  // machine): that is the budget at work, not an error.
  assert.deepEqual(errors.filter((e) => e["slowCallback"] !== true), []);
}

void test("stress: TCP peers that reset at random moments", async () => {
  await run(async () => {
    let port = 0;
    await streamRounds(
      "tcp",
      0x7e57,
      () => openConnection("127.0.0.1", port),
      async (random) => {
        const server = await vanishingServer(random, (h) => startServer(h, "127.0.0.1", 0), true);
        port = addressOf(server)[1];
        return server;
      },
    );
  });
});

void test("stress: Unix socket peers that close at random moments", async () => {
  const dir = tempDir();
  try {
    await run(async () => {
      let n = 0;
      let path = "";
      await streamRounds(
        "unix",
        0x5eed,
        () => openUnixConnection(path),
        (random) => {
          path = join(dir, `s${n++}.sock`);
          return vanishingServer(random, (h) => startUnixServer(h, path), false);
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("stress: pipes whose reader closes at random moments (buffer full or not)", async () => {
  const dir = tempDir();
  try {
    await run(async () => {
      const loop = getRunningLoop();
      const random = seeded(0xf1f0);
      const tick = ticker(0.01);
      let n = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const outcomes = await gather(
          ...Array.from({ length: CONNECTIONS }, async () => {
            const fifo = fifoPair(join(dir, `f${n++}`));
            const protocol = new StreamReaderProtocol(new StreamReader());
            const [transport] = await loop.connectWritePipe(() => protocol, fifo.writeFd);
            const writer = new StreamWriter(transport as never, protocol, null, loop);
            const closer = loop.callLater(random() * 0.03, () => fifo.closeReader());
            const outcome = await writeUntilError(writer, Buffer.alloc(chunkSize(random)), MAX_WRITES, 20_000);
            closer.cancel();
            fifo.closeReader();
            writer.close();
            return outcome;
          }),
        );
        for (const outcome of outcomes) checkOutcome("pipe", outcome);
      }
      assert.ok((await tick.stop()) >= 1);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
