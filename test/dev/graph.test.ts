import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Lock,
  Semaphore,
  captureCallGraph,
  createTask,
  formatCallGraph,
  gather,
  printCallGraph,
  run,
  shield,
  sleep,
  taskGroup,
  waitFor,
  type FutureCallGraph,
  type Task,
} from "../../src/index.ts";
import { taskTable } from "../../src/dev/graph.ts";
import { iterations } from "../helpers/index.ts";

function names(graph: FutureCallGraph | null): string[] {
  return (graph?.awaitedBy ?? []).map((g) => (g.future as Task).getName()).sort();
}

async function leaf(): Promise<void> {
  await sleep(60);
}

/** A child task in `leaf` and a parent task awaiting it, both suspended once this resolves. */
async function parentAndChild(): Promise<{ parent: Task; child: Task }> {
  const child = createTask(leaf, { name: "child" });
  const parent = createTask(async () => {
    await child;
  }, { name: "parent" });
  await iterations(3);
  return { parent, child };
}

test("captureCallGraph: a task awaiting another task is in its awaitedBy", async () => {
  await run(async () => {
    const { parent, child } = await parentAndChild();
    const graph = captureCallGraph(child);
    assert.equal(graph?.future, child);
    assert.deepEqual(names(graph), ["parent"]);
    assert.deepEqual(graph?.awaitedBy[0]?.awaitedBy, []);
    parent.cancel();
    child.cancel();
  });
});

test("captureCallGraph looks through gather, shield, waitFor and task groups", async () => {
  await run(async () => {
    const viaGather = createTask(async () => {
      await gather(createTask(leaf, { name: "g1" }), createTask(leaf, { name: "g2" }));
    }, { name: "gatherer" });
    const viaShield = createTask(async () => {
      await shield(createTask(leaf, { name: "shielded" }));
    }, { name: "shielder" });
    const viaWaitFor = createTask(async () => {
      await waitFor(createTask(leaf, { name: "waited" }), 120);
    }, { name: "waiter" });
    const viaGroup = createTask(() => taskGroup(async (tg) => {
      tg.createTask(leaf, { name: "member" });
    }), { name: "group" });
    await iterations(4);
    const byName = new Map([...(await import("../../src/index.ts")).allTasks()].map((t) => [t.getName(), t]));
    assert.deepEqual(names(captureCallGraph(byName.get("g1"))), ["gatherer"]);
    assert.deepEqual(names(captureCallGraph(byName.get("g2"))), ["gatherer"]);
    assert.deepEqual(names(captureCallGraph(byName.get("shielded"))), ["shielder"]);
    assert.deepEqual(names(captureCallGraph(byName.get("waited"))), ["waiter"]);
    assert.deepEqual(names(captureCallGraph(byName.get("member"))), ["group"]);
    for (const t of [viaGather, viaShield, viaWaitFor, viaGroup]) t.cancel();
  });
});

test("nested awaits make a chain up to the outermost task", async () => {
  await run(async () => {
    const inner = createTask(leaf, { name: "inner" });
    const middle = createTask(async () => {
      await inner;
    }, { name: "middle" });
    const outer = createTask(async () => {
      await middle;
    }, { name: "outer" });
    await iterations(3);
    const graph = captureCallGraph(inner);
    assert.deepEqual(names(graph), ["middle"]);
    assert.deepEqual(names(graph?.awaitedBy[0] ?? null), ["outer"]);
    outer.cancel();
    middle.cancel();
    inner.cancel();
  });
});

test("in debug mode each task's call stack is where it is suspended", async () => {
  await run(async () => {
    async function parkedHere(): Promise<void> {
      await sleep(60);
    }
    const child = createTask(parkedHere, { name: "child" });
    const parent = createTask(async function awaitsChild() {
      await child;
    }, { name: "parent" });
    await iterations(3);
    const graph = captureCallGraph(child);
    assert.match(graph?.callStack[0]?.frame ?? "", /^parkedHere \(.*graph\.test\.ts:\d+:\d+\)$/);
    assert.match(graph?.awaitedBy[0]?.callStack[0]?.frame ?? "", /^awaitsChild \(.*graph\.test\.ts:\d+:\d+\)$/);
    // limit trims the stacks.
    assert.equal(captureCallGraph(child, { limit: 0 })?.callStack.length, 0);
    parent.cancel();
    child.cancel();
  }, { debug: true });
});

test("in debug mode a task waiting on a lock or a semaphore is shown at its own await, not inside aiots/sync", async () => {
  await run(async () => {
    const lock = new Lock();
    const sem = new Semaphore(0);
    await lock.acquire();
    const onLock = createTask(async function waitsForLock() {
      await lock.acquire();
    });
    const onSem = createTask(async function waitsForPermit() {
      await sem.acquire();
    });
    await iterations(2);
    assert.match(captureCallGraph(onLock)?.callStack[0]?.frame ?? "", /^waitsForLock \(.*graph\.test\.ts:\d+:\d+\)$/);
    assert.match(captureCallGraph(onSem)?.callStack[0]?.frame ?? "", /^waitsForPermit \(.*graph\.test\.ts:\d+:\d+\)$/);
    onLock.cancel();
    onSem.cancel();
  }, { debug: true });
});

test("outside debug mode no await site is recorded (nothing on the hot path)", async () => {
  await run(async () => {
    const child = createTask(leaf, { name: "child" });
    await iterations(2);
    assert.deepEqual(captureCallGraph(child)?.callStack, []);
    child.cancel();
  }, { debug: false });
});

test("captureCallGraph() with no future is the current task, with the caller's stack", async () => {
  await run(async () => {
    const graph = captureCallGraph();
    assert.ok(graph !== null);
    assert.match(graph.callStack[0]?.frame ?? "", /graph\.test\.ts/);
  });
  assert.equal(captureCallGraph(), null);
  assert.equal(formatCallGraph(), "");
  assert.throws(() => captureCallGraph({} as never), TypeError);
  await run(async () => {
    assert.throws(() => captureCallGraph(null, { depth: 0 }), RangeError);
  });
});

test("formatCallGraph and printCallGraph use CPython's layout", async () => {
  await run(async () => {
    const { parent, child } = await parentAndChild();
    const text = formatCallGraph(child);
    assert.match(text, /^\* Task\(name='child', id=\d+\)\n\+ Call stack:\n\| {3}leaf \(/);
    assert.match(text, /\n\+ Awaited by:\n {3}\* Task\(name='parent', id=\d+\)\n {6}\+ Call stack:\n {6}\| {3}/);
    let printed = "";
    printCallGraph(child, { file: { write: (s: string) => (printed += s) } });
    assert.equal(printed, `${text}\n`);
    // By default it prints to standard output, through process.stdout.write (so it can be captured).
    const stdout = Object.getOwnPropertyDescriptor(process.stdout, "write");
    let captured = "";
    Object.defineProperty(process.stdout, "write", {
      configurable: true,
      writable: true,
      value: (chunk: string | Uint8Array): boolean => {
        captured += String(chunk);
        return true;
      },
    });
    try {
      printCallGraph(child);
    } finally {
      if (stdout === undefined) delete (process.stdout as { write?: unknown }).write;
      else Object.defineProperty(process.stdout, "write", stdout);
    }
    assert.equal(captured, `${text}\n`);
    parent.cancel();
    child.cancel();
  }, { debug: true });
});

test("taskTable: one row per pending task with what it awaits and who awaits it", async () => {
  await run(async () => {
    const a = createTask(leaf, { name: "a" });
    const b = createTask(leaf, { name: "b" });
    const g = createTask(async () => {
      await gather(a, b);
    }, { name: "g" });
    await iterations(3);
    const rows = taskTable();
    const row = (name: string) => rows.find((r) => r.name === name)!;
    assert.deepEqual(row("a").awaitedBy, [row("g").id]);
    assert.equal(row("a").awaiting[0], "<sleep pending>");
    assert.match(row("g").awaiting[0] ?? "", /^gather\(Task a \(#\d+\), Task b \(#\d+\)\)$/);
    assert.equal(row("g").state, "pending");
    g.cancel();
    a.cancel();
    b.cancel();
  });
});

test("a task whose function returns a future (no async) is suspended on it: graph edge, and cancel reaches it", async () => {
  await run(async () => {
    const child = createTask(leaf, { name: "child" });
    const returner = createTask(() => gather(child), { name: "returner" });
    await iterations(2);
    assert.deepEqual(names(captureCallGraph(child)), ["returner"]);
    returner.cancel();
    await iterations(2);
    assert.ok(child.cancelled());
    assert.ok(returner.cancelled());
  });
});
