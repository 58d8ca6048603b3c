/** Scheduling as asyncio users expect: sleep(0) fairness whatever the depth of async calls. */
import assert from "node:assert/strict";
import test from "node:test";
import { createTask, run, sleep } from "../../src/index.ts";
import { VirtualTimeLoop } from "../../src/dev/virtual-time-loop.ts";

async function nest(depth: number, log?: string[]): Promise<void> {
  if (depth > 0) await nest(depth - 1, log);
  log?.push(`return ${depth}`);
}

// How many sleep(0)s the calling task needs before another task gets through `depth` nested
// async calls that never suspend (asyncio needs exactly one, whatever the depth).
async function sleepsNeeded(depth: number): Promise<number> {
  let finished = false;
  createTask(async () => {
    await sleep(0);
    await nest(depth);
    finished = true;
  });
  await sleep(0); // the other task starts and reaches its sleep(0)
  let count = 0;
  while (!finished && count < 1000) {
    await sleep(0);
    count += 1;
  }
  return count;
}

for (const loopFactory of [undefined, () => new VirtualTimeLoop()]) {
  const kind = loopFactory === undefined ? "EventLoop" : "VirtualTimeLoop";
  test(`${kind}: one sleep(0) lets another ready task run to its next suspension through 0, 3, 10, 50 and 200 nested calls`, async () => {
    await run(async () => {
      for (const depth of [0, 3, 10, 50, 200]) assert.equal(await sleepsNeeded(depth), 1, `depth ${depth}`);
    }, loopFactory === undefined ? {} : { loopFactory });
  });
}

test("the tasks woken in one iteration run one after another, each to its next suspension", async () => {
  await run(async () => {
    const log: string[] = [];
    const worker = (name: string) => async () => {
      for (let round = 0; round < 2; round++) {
        await sleep(0);
        log.push(`${name} ${round} start`);
        await nest(5);
        log.push(`${name} ${round} end`);
      }
    };
    const a = createTask(worker("a"));
    const b = createTask(worker("b"));
    await a;
    await b;
    assert.deepEqual(log, ["a 0 start", "a 0 end", "b 0 start", "b 0 end", "a 1 start", "a 1 end", "b 1 start", "b 1 end"]);
  });
});
