/**
 * The core's surface for the layers above it (sync, net, proc, loop, dev, ws, http): the loop interface,
 * futures and tasks, and the internal hooks those layers share (task context, debug-mode trackers,
 * inspection helpers). Users import the public names from the package entry, `src/index.ts`.
 * @module
 */
export {
  AbstractEventLoop,
  type ExceptionContext,
  type ExceptionHandler,
  type Executor,
  getRunningLoop,
  Handle,
  setEventLoop,
  type TaskFactory,
  type TaskOptions,
  TimerHandle,
} from "./events.ts";
export {
  BrokenBarrierError,
  CancelledError,
  IncompleteReadError,
  LimitOverrunError,
  SendfileNotAvailableError,
  TimeoutError,
} from "./exceptions.ts";
export { Future, isFuture, isThenable } from "./futures.ts";
export { gather, gatherOn } from "./gather.ts";
export { awaitSite, startAwaitSites, stopAwaitSites } from "./internal/await-sites.ts";
export { setWatchUndeliveredCancels } from "./internal/undelivered-cancels.ts";
export { abortable } from "./foreign-futures.ts";
export { kAwaiters, kWaitingOn, registeredAwaitedBy, registeredWaitsOn } from "./internal/awaited-by.ts";
export {
  type AwaitingTask,
  type Cancellable,
  currentAwaitingTask,
  enterDrain,
  leaveDrain,
  makeInternalError,
  getRunningLoopOrNull,
  outsideTasks,
  setCaptureStacks,
  setInLoopCallback,
  setRunningLoop,
} from "./internal/context.ts";
export { log, slowCallbackChannel } from "./internal/diagnostics.ts";
export { awaitForeign, waitFuture } from "./internal/foreign.ts";
export { inspectSymbol, shortRepr } from "./internal/inspect.ts";
export { framesIn } from "./internal/own-frames.ts";
export { startNeverAwaited, stopNeverAwaited } from "./internal/never-awaited.ts";
export { FAST_PATH_BUDGET, ReadyQueue, spendFastPath, yieldToIo } from "./internal/ready-queue.ts";
export { loopClosing, loopDebugEnabled, resourceClosed, resourceOpened } from "./internal/resource-tracker.ts";
export { kScheduleRunnable, type Runnable, taskActivity } from "./internal/runnable.ts";
export { TimerHeap } from "./internal/timer-heap.ts";
export { checkCallback, checkDelay, checkWhen } from "./internal/validate.ts";
export {
  type AcceptedSocketOptions,
  type AddrInfo,
  type ConnectionOptions,
  type DatagramEndpointOptions,
  type Job,
  type JobOptions,
  type ServerCreateOptions,
  type SslOption,
  type StdioSpec,
  type SubprocessOptions,
  type UnixServerCreateOptions,
} from "./loop-options.ts";
export {
  BaseProtocol,
  DatagramProtocol,
  isBufferedProtocol,
  Protocol,
  type StreamProtocol,
  SubprocessProtocol,
} from "./protocols.ts";
export { Server } from "./servers.ts";
export { sleep } from "./sleep.ts";
export { allTasks, currentTask, ensureFuture, reportAbandonedTasks, Task } from "./tasks.ts";
export {
  BaseTransport,
  DatagramTransport,
  type ExtraInfo,
  type ExtraInfoName,
  ReadTransport,
  type SocketAddress,
  SubprocessTransport,
  Transport,
  WriteTransport,
} from "./transports.ts";
export { wait } from "./wait.ts";
