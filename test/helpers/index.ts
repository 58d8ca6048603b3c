/** Shared test helpers: run a body on a fresh loop, collect exception-handler reports. */
import { run, getRunningLoop, type ExceptionContext } from "../../src/index.ts";

/** Runs `body` under `run()` and returns its value. */
export function inLoop<T>(body: () => Promise<T>): Promise<T> {
  return run(body);
}

/** Routes the running loop's exception handler into an array and returns it. */
export function captureLoopErrors(): ExceptionContext[] {
  const seen: ExceptionContext[] = [];
  getRunningLoop().setExceptionHandler((_loop, context) => {
    seen.push(context);
  });
  return seen;
}

/** Settles after `n` loop iterations. */
export async function iterations(n: number): Promise<void> {
  const { sleep } = await import("../../src/index.ts");
  for (let i = 0; i < n; i++) await sleep(0);
}

/** Resolves with the error `promise` rejects with; fails if it fulfils. */
export async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the promise fulfilled");
}
