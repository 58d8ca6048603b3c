import { test } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, ExceptionGroup, TaskGroup, createTask, currentTask, getRunningLoop, run, sleep, taskGroup } from "../../src/index.ts";
import { VirtualTimeLoop } from "../../src/dev/virtual-time-loop.ts";
import { rejection } from "../helpers/index.ts";

const virtual = { loopFactory: () => new VirtualTimeLoop() };

test("taskGroup waits for all children and resolves to the body's value", async () => {
  await run(async () => {
    const finished: number[] = [];
    const value = await taskGroup(async (tg) => {
      tg.createTask(async () => {
        await sleep(2);
        finished.push(2);
      });
      tg.createTask(async () => {
        await sleep(1);
        finished.push(1);
      });
      return "body";
    });
    assert.equal(value, "body");
    assert.deepEqual(finished, [1, 2]);
    assert.equal(getRunningLoop().time(), 2);
  }, virtual);
});

test("a failing child cancels its siblings and the body; the group throws an ExceptionGroup", async () => {
  await run(async () => {
    const log: string[] = [];
    const boom = new Error("boom");
    const error = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          try {
            await sleep(10);
          } catch (e) {
            log.push("sibling cancelled");
            throw e;
          }
        });
        tg.createTask(async () => {
          await sleep(1);
          throw boom;
        });
        try {
          await sleep(10);
        } catch (e) {
          log.push(`body ${(e as Error).name}`);
          throw e;
        }
      }),
    );
    assert.ok(error instanceof ExceptionGroup);
    assert.deepEqual((error).exceptions, [boom]);
    assert.deepEqual(log.sort(), ["body CancelledError", "sibling cancelled"]);
    assert.equal(currentTask()!.cancelling(), 0, "the group took back the cancel it made");
    await sleep(1); // the parent task goes on normally
  }, virtual);
});

test("errors of several children and of the body are all collected", async () => {
  await run(async () => {
    const error = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          await sleep(1);
          throw new Error("a");
        });
        tg.createTask(async () => {
          await sleep(1);
          throw new Error("b");
        });
        throw new Error("body");
      }),
    );
    assert.ok(error instanceof ExceptionGroup);
    const messages = (error).exceptions.map((e) => (e as Error).message).sort();
    // The body's error aborts the group at once: the children are cancelled before they fail.
    assert.deepEqual(messages, ["body"]);
  }, virtual);
});

test("children failing at the same time are all reported", async () => {
  await run(async () => {
    const error = await rejection(
      taskGroup(async (tg) => {
        for (const name of ["a", "b"]) {
          tg.createTask(async () => {
            await sleep(1);
            throw new Error(name);
          });
        }
      }),
    );
    const messages = (error as ExceptionGroup).exceptions.map((e) => (e as Error).message).sort();
    assert.deepEqual(messages, ["a", "b"]);
  }, virtual);
});

test("nested task groups: an inner failure propagates as a nested ExceptionGroup", async () => {
  await run(async () => {
    const error = await rejection(
      taskGroup(async (outer) => {
        outer.createTask(() => sleep(10));
        await taskGroup(async (inner) => {
          inner.createTask(async () => {
            await sleep(1);
            throw new Error("deep");
          });
        });
      }),
    );
    assert.ok(error instanceof ExceptionGroup);
    const nested = (error).exceptions[0];
    assert.ok(nested instanceof ExceptionGroup);
    assert.equal(((nested).exceptions[0] as Error).message, "deep");
  }, virtual);
});

test("cancelling the parent from outside cancels the children and propagates CancelledError", async () => {
  await run(async () => {
    const children: Promise<unknown>[] = [];
    const parent = createTask(() =>
      taskGroup(async (tg) => {
        children.push(rejection(tg.createTask(() => sleep(10))));
        await sleep(10);
      }),
    );
    await sleep(1);
    parent.cancel();
    assert.ok((await rejection(parent)) instanceof CancelledError);
    assert.ok((await children[0]) instanceof CancelledError);
  }, virtual);
});

test("outside cancel while the group waits for children in exit", async () => {
  await run(async () => {
    let childCleanup = false;
    const parent = createTask(() =>
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          try {
            await sleep(10);
          } finally {
            childCleanup = true;
          }
        });
      }),
    );
    await sleep(1); // the body has returned; the group waits in exit
    parent.cancel();
    assert.ok((await rejection(parent)) instanceof CancelledError);
    assert.equal(childCleanup, true);
  }, virtual);
});

test("tg.cancel() ends the group early and cleanly: no error, children cancelled", async () => {
  await run(async () => {
    let child: Promise<unknown> | undefined;
    const value = await taskGroup(async (tg) => {
      child = rejection(tg.createTask(() => sleep(10)));
      tg.createTask(async () => {
        await sleep(1);
        tg.cancel();
      });
      await sleep(10);
      return "not reached";
    });
    assert.equal(value, undefined);
    assert.ok((await child) instanceof CancelledError);
    assert.equal(getRunningLoop().time(), 1);
    assert.equal(currentTask()!.cancelling(), 0);
  }, virtual);
});

test("tg.cancel() before the group starts cancels it on entry; cancel() is idempotent", async () => {
  await run(async () => {
    const tg = new TaskGroup();
    tg.cancel();
    let reached = false;
    await tg.run(async (g) => {
      // Already shutting down, as in CPython 3.15: no new children.
      assert.throws(() => g.createTask(() => sleep(10)), /is shutting down/);
      await sleep(10);
      reached = true;
    });
    assert.equal(reached, false);
    tg.cancel();
    assert.equal(getRunningLoop().time(), 0);
  }, virtual);
});

test("createTask on a group that has not started, has finished, or is shutting down is refused", async () => {
  await run(async () => {
    const tg = new TaskGroup();
    assert.throws(() => tg.createTask(() => sleep(0)), /has not been entered/);
    let saved: TaskGroup | undefined;
    await taskGroup(async (g) => {
      saved = g;
      assert.throws(() => g.createTask(sleep(0) as never), /takes a function/);
    });
    assert.throws(() => saved!.createTask(() => sleep(0)), /is finished/);
    await rejection(
      taskGroup(async (g) => {
        g.createTask(async () => {
          await sleep(1);
          throw new Error("x");
        });
        try {
          await sleep(10);
        } catch (e) {
          assert.throws(() => g.createTask(() => sleep(0)), /is shutting down/);
          throw e;
        }
      }),
    );
    await assert.rejects(() => tg.run(async () => undefined).then(() => tg.run(async () => undefined)), /already been entered/);
  }, virtual);
});

test("a body that catches the group's cancel still gets the children's errors", async () => {
  await run(async () => {
    const error = await rejection(
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          await sleep(1);
          throw new Error("child");
        });
        try {
          await sleep(10);
        } catch {
          // swallowed: the group still reports the child's error
        }
      }),
    );
    assert.ok(error instanceof ExceptionGroup);
  }, virtual);
});

test("taskGroup outside a task is refused", async () => {
  await assert.rejects(() => taskGroup(async () => undefined), /no running event loop/);
});
