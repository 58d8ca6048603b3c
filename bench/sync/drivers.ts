/** Shared by the plain-JavaScript peers of the sync suite (hand-rolled and npm): the same loops for each. */

export const TASKS = 100;

/** `sleep(0)` for plain JavaScript: one `setImmediate`, a real loop turn. */
export const sleep0 = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Releasable {
  acquire(): Promise<unknown>;
  release(): void;
}

/** TASKS workers, n acquisitions in all, optionally holding across a sleep(0). */
export async function contended(prim: Releasable, n: number, holdAcrossSleep: boolean): Promise<void> {
  const each = Math.floor(n / TASKS);
  let counter = 0;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < each; i++) {
      await prim.acquire();
      try {
        if (holdAcrossSleep) await sleep0();
        counter += 1;
      } finally {
        prim.release();
      }
    }
  };
  await Promise.all(Array.from({ length: TASKS }, worker));
  if (counter !== each * TASKS) throw new Error("lost increments");
}
