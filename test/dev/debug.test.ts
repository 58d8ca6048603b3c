import { test } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { spawn } from "node:child_process";
import { MessageChannel } from "node:worker_threads";
import { once } from "node:events";
import {
  DatagramProtocol,
  createTask,
  getRunningLoop,
  newEventLoop,
  openConnection,
  run,
  sleep,
  startServer,
  type ExceptionContext,
  type Future,
  type Task,
} from "../../src/index.ts";
import { captureLoopErrors } from "../helpers/index.ts";

const gc = (globalThis as { gc?: () => void }).gc;
const needsGc = gc === undefined ? "run with node --expose-gc (npm test does)" : false;

/** Collects garbage until `done()` or a bounded number of rounds (finalizers run between turns). */
async function collectUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 20 && !done(); i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function messages(reports: ExceptionContext[], pattern: RegExp): string[] {
  return reports.map((r) => r.message).filter((m) => pattern.test(m));
}

// --- never awaited ---

test("debug mode: a task result nobody awaited or inspected is reported with its creation stack", { skip: needsGc }, async () => {
  const reports = await run(async () => {
    const seen = captureLoopErrors();
    const [awaited, inspected] = (() => {
      createTask(async () => 42, { name: "forgotten" });
      createTask(async () => undefined, { name: "fire-and-forget" });
      return [createTask(async () => 1, { name: "awaited" }), createTask(async () => 2, { name: "inspected" })];
    })();
    await sleep(0);
    await sleep(0);
    assert.equal(await awaited, 1);
    assert.equal(inspected.result(), 2);
    await collectUntil(() => messages(seen, /never|nobody/).length > 0);
    await sleep(0.01);
    gc!();
    await sleep(0.01);
    return seen;
  }, { debug: true });
  const found = messages(reports, /nobody awaited/);
  assert.equal(found.length, 1, found.join("\n---\n"));
  assert.match(found[0]!, /^Task forgotten \(result 42\) finished with a result nobody awaited or inspected/);
  assert.match(found[0]!, /task created at:\n[^]*debug\.test\.ts:\d+:\d+/);
});

test("outside debug mode a forgotten result is not tracked", { skip: needsGc }, async () => {
  const reports = await run(async () => {
    const seen = captureLoopErrors();
    (() => void createTask(async () => 42))();
    await sleep(0);
    await sleep(0);
    await collectUntil(() => false);
    return seen;
  }, { debug: false });
  assert.deepEqual(messages(reports, /nobody awaited/), []);
});

test("plain futures are not followed (library code sets results for readers that may never come)", { skip: needsGc }, async () => {
  const reports = await run(async () => {
    const seen = captureLoopErrors();
    (() => getRunningLoop().createFuture<string>().setResult("unread"))();
    await collectUntil(() => false);
    return seen;
  }, { debug: true });
  assert.deepEqual(messages(reports, /nobody awaited/), []);
});

test("an async function where a plain callback goes is refused where it is passed", async () => {
  await run(async () => {
    const fut = getRunningLoop().createFuture<number>();
    assert.throws(() => fut.addDoneCallback(async () => undefined), /addDoneCallback\(\) cannot schedule an async function/);
    fut.setResult(1); // unaffected by the refused callback
    assert.throws(() => getRunningLoop().callSoon(async () => undefined), TypeError);
    assert.throws(() => createTask(sleep(0) as never), /not a promise/);
  });
});

// --- wrong context ---

test("awaiting a future of a closed loop (outside any task) fails with a clear error instead of hanging", async () => {
  let fut: Future<number> | undefined;
  await run(async () => {
    fut = getRunningLoop().createFuture<number>();
  });
  await assert.rejects(Promise.resolve(fut!), /attached to a closed event loop and can never complete/);
});

test("debug mode: posting a task, future or loop to a worker thread is a DataCloneError, not an empty object", async () => {
  const { port1, port2 } = new MessageChannel();
  try {
    await run(async () => {
      const task = createTask(() => sleep(0));
      for (const value of [task, getRunningLoop().createFuture(), getRunningLoop()]) {
        assert.throws(() => port1.postMessage({ value }), { name: "DataCloneError" });
      }
      await task;
    }, { debug: true });
    await run(async () => {
      assert.doesNotThrow(() => port1.postMessage({ value: getRunningLoop().createFuture() })); // off: no cost, no check
    }, { debug: false });
  } finally {
    port1.close();
    port2.close();
  }
});

// --- unclosed resources ---

test("debug mode: servers and connections left open when run() ends are reported with where they were opened", async () => {
  const reports: ExceptionContext[] = [];
  await run(async () => {
    getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
    const server = await startServer(() => undefined, "127.0.0.1", 0);
    const port = (server.sockets[0]!.getsockname() as [string, number])[1];
    await openConnection("127.0.0.1", port); // never closed
    const closed = await startServer(() => undefined, "127.0.0.1", 0);
    closed.close();
  }, { debug: true });
  const found = messages(reports, /^unclosed /);
  assert.equal(found.filter((m) => m.startsWith("unclosed server")).length, 1, found.join("\n"));
  assert.ok(found.filter((m) => m.startsWith("unclosed socket transport")).length >= 1, found.join("\n"));
  for (const message of found) assert.match(message, /left open when its event loop closed[^]*\nopened at:\n/);
  // The server and the client side were opened by this file; the accepted side by the server.
  const fromHere = found.filter((m) => /opened at:\n[^]*debug\.test\.ts:\d+:\d+/.test(m));
  assert.equal(fromHere.length, 2, found.join("\n"));
  assert.ok(reports.every((r) => !/unclosed server.*clients=0>[^]*closed\.close/.test(r.message)));
});

test("debug mode: a UDP endpoint left open is reported; a closed one is not", async () => {
  const reports: ExceptionContext[] = [];
  await run(async () => {
    const loop = getRunningLoop();
    loop.setExceptionHandler((_loop, context) => reports.push(context));
    const protocol = (): DatagramProtocol => new DatagramProtocol();
    await loop.createDatagramEndpoint(protocol, { localAddr: ["127.0.0.1", 0] });
    const [closed] = await loop.createDatagramEndpoint(protocol, { localAddr: ["127.0.0.1", 0] });
    closed.close();
  }, { debug: true });
  const found = messages(reports, /^unclosed datagram transport/);
  assert.equal(found.length, 1, reports.map((r) => r.message).join("\n"));
  assert.match(found[0]!, /opened at:\n[^]*debug\.test\.ts:\d+:\d+/);
});

test("outside debug mode nothing is recorded about resources", async () => {
  const reports: ExceptionContext[] = [];
  await run(async () => {
    getRunningLoop().setExceptionHandler((_loop, context) => reports.push(context));
    await startServer(() => undefined, "127.0.0.1", 0);
  }, { debug: false });
  assert.deepEqual(messages(reports, /^unclosed /), []);
});

test("debug mode: an event loop garbage-collected without close() is a ResourceWarning", { skip: needsGc }, async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === "ResourceWarning") warnings.push(warning);
  };
  process.on("warning", onWarning);
  try {
    (function openAndDrop() {
      newEventLoop().setDebug(true);
    })();
    (function openAndClose() {
      const loop = newEventLoop();
      loop.setDebug(true);
      loop.close();
    })();
    await collectUntil(() => warnings.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off("warning", onWarning);
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /^unclosed event loop <EventLoop> \(garbage-collected while open\): call loop\.close\(\)[^]*openAndDrop/);
});

// --- instrumentation ---

test("diagnostics channels: task created, done and cancelled", async () => {
  const events: string[] = [];
  const on = (kind: string) => (message: unknown): void => {
    const task = (message as { task: Task }).task;
    if (task.getName().startsWith("chan-")) events.push(`${kind} ${task.getName()}`);
  };
  const created = on("created");
  const done = on("done");
  const cancelled = on("cancelled");
  diagnosticsChannel.subscribe("aiots:task:created", created);
  diagnosticsChannel.subscribe("aiots:task:done", done);
  diagnosticsChannel.subscribe("aiots:task:cancelled", cancelled);
  try {
    await run(async () => {
      const ok = createTask(async () => 1, { name: "chan-ok" });
      const bad = createTask(async () => {
        throw new Error("x");
      }, { name: "chan-bad" });
      const stopped = createTask(() => sleep(10), { name: "chan-stopped" });
      await ok;
      await bad.then(undefined, () => undefined);
      stopped.cancel();
      await stopped.then(undefined, () => undefined);
    });
  } finally {
    diagnosticsChannel.unsubscribe("aiots:task:created", created);
    diagnosticsChannel.unsubscribe("aiots:task:done", done);
    diagnosticsChannel.unsubscribe("aiots:task:cancelled", cancelled);
  }
  assert.deepEqual(events, ["created chan-ok", "created chan-bad", "created chan-stopped", "done chan-ok", "done chan-bad", "cancelled chan-stopped"]);
});

test("diagnostics channels: connection opened and closed, with the transport", async () => {
  const events: string[] = [];
  const opened = (m: unknown): void => void events.push(`opened ${(m as { kind: string }).kind}`);
  const closed = (m: unknown): void => void events.push(`closed ${(m as { kind: string }).kind}`);
  diagnosticsChannel.subscribe("aiots:connection:opened", opened);
  diagnosticsChannel.subscribe("aiots:connection:closed", closed);
  try {
    await run(async () => {
      const server = await startServer(async (_reader, writer) => {
        writer.close();
        await writer.waitClosed();
      }, "127.0.0.1", 0);
      const port = (server.sockets[0]!.getsockname() as [string, number])[1];
      const [reader, writer] = await openConnection("127.0.0.1", port);
      await reader.read();
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  } finally {
    diagnosticsChannel.unsubscribe("aiots:connection:opened", opened);
    diagnosticsChannel.unsubscribe("aiots:connection:closed", closed);
  }
  assert.deepEqual(events.sort(), ["closed socket transport", "closed socket transport", "opened socket transport", "opened socket transport"]);
});

test("diagnostics channels: slow callbacks in debug mode, with the task and duration", async () => {
  const slow: { duration: number; task: unknown }[] = [];
  const onSlow = (m: unknown): void => void slow.push(m as { duration: number; task: unknown });
  diagnosticsChannel.subscribe("aiots:loop:slow-callback", onSlow);
  try {
    await run(async () => {
      captureLoopErrors();
      getRunningLoop().slowCallbackDuration = 0.01;
      const blocker = createTask(async () => {
        await sleep(0);
        const until = performance.now() + 30;
        while (performance.now() < until);
      }, { name: "blocker" });
      await blocker;
    }, { debug: true });
  } finally {
    diagnosticsChannel.unsubscribe("aiots:loop:slow-callback", onSlow);
  }
  const blocked = slow.filter((s) => String(s.task).includes("name=blocker"));
  assert.ok(blocked.length >= 1, `no slow-callback message for the blocker: ${slow.map((s) => String(s.task)).join(", ")}`);
  assert.ok(blocked[0]!.duration >= 0.01);
});

test("NODE_DEBUG=aiots logs connections through util.debuglog", async () => {
  const code = `
    import { run, startServer, openConnection } from "./src/index.ts";
    await run(async () => {
      const server = await startServer((_r, w) => w.close(), "127.0.0.1", 0);
      const [reader, writer] = await openConnection("127.0.0.1", server.sockets[0].getsockname()[1]);
      await reader.read(); writer.close(); await writer.waitClosed(); server.close();
    });`;
  const run1 = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const child = spawn(process.execPath, ["--input-type=module-typescript", "-e", code], { cwd: new URL("../..", import.meta.url), env: { ...process.env, ...env } });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    await once(child, "exit");
    return stderr;
  };
  const [logged, quiet] = await Promise.all([run1({ NODE_DEBUG: "aiots" }), run1({ NODE_DEBUG: "" })]);
  assert.match(logged, /AIOTS \d+: connection opened: socket transport <SocketTransport/);
  assert.match(logged, /AIOTS \d+: connection closed: socket transport/);
  assert.doesNotMatch(quiet, /AIOTS/);
});
