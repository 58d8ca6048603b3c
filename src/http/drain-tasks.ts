/**
 * The last step of a graceful shutdown, shared by the HTTP server and the standalone WebSocket
 * server: let running handler tasks finish for a grace period, then cancel what is left.
 * @module
 */
import { gather, wait, type Task } from "../core/index.ts";

/**
 * Waits up to `timeout` seconds for `tasks`, then cancels those still running and waits for them
 * to end (their errors are not re-thrown: a handler's failure must not stop the shutdown).
 */
export async function finishOrCancel(tasks: Iterable<Task<unknown>>, timeout: number): Promise<void> {
  const running = [...tasks];
  if (running.length === 0) return;
  const [, pending] = await wait(running, { timeout });
  for (const task of pending) task.cancel("the server is shutting down");
  await gather([...pending], { returnExceptions: true });
}
