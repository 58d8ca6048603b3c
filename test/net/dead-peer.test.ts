/**
 * Regression tests: a `write()`/`drain()` loop against a peer that is gone (reset TCP peer, closed
 * Unix peer, a pipe whose reader closed, a child that exited) ends with an error after a bounded
 * number of writes, the loss reaches `connectionLost` and the readers, and the loop never stops
 * other tasks from running (the fast-path budget of `drain()`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  run,
  createTask,
  sleep,
  getRunningLoop,
  openConnection,
  startServer,
  openUnixConnection,
  startUnixServer,
  createSubprocessExec,
  Protocol,
  PIPE,
  StreamReader,
  StreamReaderProtocol,
  StreamWriter,
  type Future,
} from "../../src/index.ts";
import { captureLoopErrors } from "../helpers/index.ts";
import { addressOf, tempDir } from "../helpers/net.ts";
import { blockFor, fifoPair, resettingPeer, ticker, writeUntilError } from "../helpers/dead-peer.ts";

void test("TCP: write()/drain() against a peer that reset ends with ConnectionResetError, bounded, other tasks run", async () => {
  await run(async () => {
    const errors = captureLoopErrors();
    await using server = await startServer(async (reader, writer) => {
      await reader.readExactly(1);
      (writer.getExtraInfo("socket") as net.Socket).resetAndDestroy();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection(...addressOf(server));
    const tick = ticker(0.01);
    const rssBefore = process.memoryUsage().rss;
    const { writes, error } = await writeUntilError(writer, Buffer.alloc(1024), 200_000, 10_000);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(error instanceof Error, `expected an error after the reset, got none in ${writes} writes`);
    assert.match((error as NodeJS.ErrnoException).code ?? "", /^(ECONNRESET|EPIPE)$/);
    assert.match(error.name, /^(ConnectionResetError|BrokenPipeError)$/);
    assert.ok(writes < 200_000, `${writes} writes`);
    assert.ok(grown < 128 * 1024 * 1024, `RSS grew by ${grown} bytes`);
    // The loss reached the protocol: the reader fails with it and waitClosed reports it.
    await assert.rejects(reader.read(1), (e: NodeJS.ErrnoException) => /ECONNRESET|EPIPE/.test(e.code ?? ""));
    await assert.rejects(writer.waitClosed());
    assert.equal(writer.isClosing(), true);
    // Later drains keep failing; writes are dropped.
    writer.write(Buffer.from("dropped"));
    await assert.rejects(writer.drain());
    await tick.stop();
    assert.deepEqual(errors, []);
  });
});

void test("Unix socket: write()/drain() against a peer that went away ends with an error, bounded", async () => {
  const dir = tempDir();
  try {
    await run(async () => {
      const path = join(dir, "dead.sock");
      await using server = await startUnixServer(async (reader, writer) => {
        await reader.readExactly(1);
        (writer.getExtraInfo("socket") as net.Socket).destroy();
      }, path);
      const [reader, writer] = await openUnixConnection(path);
      const { writes, error } = await writeUntilError(writer, Buffer.alloc(4096), 200_000, 10_000);
      assert.ok(error instanceof Error, `expected an error, got none in ${writes} writes`);
      assert.match((error as NodeJS.ErrnoException).code ?? "", /^(ECONNRESET|EPIPE)$/);
      assert.ok(writes < 200_000, `${writes} writes`);
      await assert.rejects(reader.read(1));
      void server;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("a transport's write() sees the failed socket at once: isClosing(), then connectionLost(exc)", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    // The peer is another process, so that it can reset while this thread never returns to libuv.
    await using peer = await resettingPeer();
    const lost: Future<Error | null> = loop.createFuture();
    class P extends Protocol {
      override connectionLost(exc: Error | null): void {
        lost.setResult(exc);
      }
    }
    const [transport] = await loop.createConnection(() => new P(), "127.0.0.1", peer.port);
    transport.write(Buffer.from("x"));
    let writes = 0;
    const started = Date.now();
    // Synchronous: no event can arrive, so only write() itself can notice the reset.
    while (!transport.isClosing() && Date.now() - started < 5000) {
      transport.write(Buffer.alloc(100));
      writes++;
      blockFor(5);
    }
    assert.equal(transport.isClosing(), true, `still open after ${writes} writes`);
    const exc = await lost;
    assert.ok(exc instanceof Error);
    assert.match((exc as NodeJS.ErrnoException).code ?? "", /ECONNRESET|EPIPE/);
  });
});

void test("a pipe whose reader closed: drain() throws BrokenPipeError at the first write", async () => {
  const dir = tempDir();
  try {
    await run(async () => {
      const loop = getRunningLoop();
      const fifo = fifoPair(join(dir, "fifo"));
      const protocol = new StreamReaderProtocol(new StreamReader());
      const [transport] = await loop.connectWritePipe(() => protocol, fifo.writeFd);
      const writer = new StreamWriter(transport as never, protocol, null, loop);
      fifo.closeReader();
      const { writes, error } = await writeUntilError(writer, Buffer.alloc(65536), 10_000, 10_000);
      assert.ok(error instanceof Error, `expected an error, got none in ${writes} writes`);
      assert.equal(error.name, "BrokenPipeError");
      assert.equal((error as NodeJS.ErrnoException).code, "EPIPE");
      assert.ok(writes <= 2, `${writes} writes`);
      await assert.rejects(writer.waitClosed(), (e: NodeJS.ErrnoException) => e.code === "EPIPE");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("a subprocess's stdin after the child exited: drain() throws BrokenPipeError after a few writes", async () => {
  await run(async () => {
    const proc = await createSubprocessExec("head", ["-c", "1"], { stdin: PIPE });
    const tick = ticker(0.01);
    const { writes, error } = await writeUntilError(proc.stdin!, Buffer.alloc(65536), 10_000, 10_000);
    assert.ok(error instanceof Error, `expected an error, got none in ${writes} writes`);
    // Node's child stdin is a socket pair: a child that exits with bytes unread resets it (ECONNRESET),
    // one that read everything closes it (EPIPE). Which one depends on timing; both say the peer is gone.
    const code = (error as NodeJS.ErrnoException).code;
    assert.ok(code === "EPIPE" || code === "ECONNRESET", `code ${code}`);
    assert.equal(error.name, code === "EPIPE" ? "BrokenPipeError" : "ConnectionResetError");
    assert.ok(writes < 64, `${writes} writes of 64 KiB`);
    assert.equal(await proc.wait(), 0);
    await tick.stop();
  });
});

void test("drain() that never suspends still lets a task sleeping 10 ms wake (fast-path budget)", async () => {
  await run(async () => {
    await using server = await startServer(async (reader, writer) => {
      await reader.read();
      writer.close();
    }, "127.0.0.1", 0);
    const [, writer] = await openConnection(...addressOf(server));
    const tick = ticker(0.01);
    const started = Date.now();
    let rounds = 0;
    // The buffer stays empty: every drain() completes without suspending. Wall-clock bound, as
    // before the fix no timer could fire during this loop.
    while (Date.now() - started < 400) {
      await writer.drain();
      rounds++;
    }
    const ticks = await tick.stop();
    assert.ok(ticks >= 3, `the sleeping task woke ${ticks} times in 400 ms (${rounds} drains)`);
    writer.close();
    await writer.waitClosed();
  });
});

void test("drain() after a read that waited for I/O spends no fast-path budget; a drain without one still waits its turn", async () => {
  await run(async () => {
    await using server = await startServer(async (reader, writer) => {
      for (;;) {
        const data = await reader.read(100);
        if (data.length === 0) break;
        writer.write(data);
        await writer.drain();
      }
      writer.close();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection(...addressOf(server));
    const [, spender] = await openConnection(...addressOf(server));
    let turnedBeforeDrain: boolean;
    let turnedAfterSpentDrain: boolean;
    try {
      writer.write(Buffer.from("a"));
      assert.equal((await reader.read(1)).toString(), "a"); // waits: the echo arrives from I/O
      // Spend the whole budget (as 600 writers under the high-water mark in one I/O turn would).
      for (let i = 0; i < 600; i++) void spender.drain();
      let turned = false;
      setImmediate(() => {
        turned = true;
      });
      await writer.drain();
      turnedBeforeDrain = turned;
      await spender.drain();
      turnedAfterSpentDrain = turned;
    } finally {
      writer.close();
      spender.close();
      await writer.waitClosed();
      await spender.waitClosed();
    }
    assert.equal(turnedBeforeDrain, false, "the drain after a read that waited for I/O must not wait for a libuv turn");
    assert.equal(turnedAfterSpentDrain, true, "a drain with the budget spent and no read in between waits for a libuv turn");
  });
});

void test("a cancelled task stops at a drain() that is waiting for its I/O turn", async () => {
  await run(async () => {
    await using server = await startServer(async (reader, writer) => {
      await reader.read();
      writer.close();
    }, "127.0.0.1", 0);
    const [, writer] = await openConnection(...addressOf(server));
    let rounds = 0;
    const spinner = createTask(async () => {
      for (;;) {
        await writer.drain();
        rounds++;
      }
    });
    await sleep(0.05);
    spinner.cancel();
    await assert.rejects(spinner, { name: "CancelledError" });
    assert.ok(rounds > 0);
    writer.close();
  });
});
