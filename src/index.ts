/**
 * aiots: Python's asyncio for TypeScript on Node.js. This file only re-exports.
 * @module
 */
export { run, Runner, KeyboardInterrupt, type RunnerOptions } from "./runners.ts";
export { Future, isFuture, type DoneCallback } from "./futures.ts";
export { Task, createTask, currentTask, allTasks, ensureFuture, eagerTaskFactory } from "./tasks.ts";
export { sleep } from "./sleep.ts";
export { gather, shield, type Awaitable, type GatherOptions } from "./gather.ts";
export { wait, asCompleted, AsCompleted, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, type ReturnWhen, type WaitOptions } from "./wait.ts";
export { timeout, timeoutAt, Timeout, waitFor } from "./timeouts.ts";
export { taskGroup, TaskGroup } from "./task-groups.ts";
export { captureCallGraph, formatCallGraph, printCallGraph, type CallGraphOptions, type FrameCallGraphEntry, type FutureCallGraph } from "./graph.ts";
export { enableInspection, disableInspection, inspectionSocketPath, type InspectionReply } from "./inspection.ts";
export { Lock, Event, Condition, Semaphore, BoundedSemaphore } from "./locks.ts";
export { Barrier } from "./barrier.ts";
export { Queue, PriorityQueue, LifoQueue, QueueEmpty, QueueFull, QueueShutDown, type PriorityQueueOptions } from "./queues.ts";
export {
  AbstractEventLoop,
  Handle,
  TimerHandle,
  getRunningLoop,
  getEventLoop,
  setEventLoop,
  type ExceptionContext,
  type ExceptionHandler,
  type Executor,
  type TaskFactory,
  type TaskOptions,
} from "./events.ts";
export { EventLoop, newEventLoop } from "./base-events.ts";
export {
  ThreadPoolExecutor,
  toThread,
  type Job,
  type JobOptions,
  type ModuleJob,
  type FunctionJob,
  type SubmittingExecutor,
  type ThreadPoolExecutorOptions,
} from "./executors.ts";
export { createSubprocessExec, createSubprocessShell, Process, PIPE, STDOUT, DEVNULL, type CreateSubprocessOptions, type StdioSpec } from "./subprocess.ts";
export { ChildProcessTransport, type SubprocessOptions } from "./subprocess-transport.ts";
export { Server, ServerSocket, type ServerClient, type ServerOptions } from "./servers.ts";
export {
  BaseTransport,
  ReadTransport,
  WriteTransport,
  Transport,
  DatagramTransport,
  SubprocessTransport,
  type ExtraInfo,
  type ExtraInfoName,
  type SocketAddress,
} from "./transports.ts";
export { BaseProtocol, Protocol, BufferedProtocol, DatagramProtocol, SubprocessProtocol, type StreamProtocol } from "./protocols.ts";
export { SocketTransport } from "./socket-transport.ts";
export { DatagramSocketTransport, type DatagramEndpointOptions } from "./datagram-transport.ts";
export { ReadPipeTransport, WritePipeTransport } from "./pipe-transport.ts";
export type { AcceptedSocketOptions, AddrInfo, ConnectionOptions, ServerCreateOptions, SslOption, UnixServerCreateOptions } from "./network.ts";
export {
  StreamReader,
  StreamWriter,
  StreamReaderProtocol,
  openConnection,
  startServer,
  openUnixConnection,
  startUnixServer,
  type ClientConnectedCallback,
  type OpenConnectionOptions,
  type StreamOptions,
  type StreamReaderOptions,
} from "./streams.ts";
export {
  CancelledError,
  TimeoutError,
  InvalidStateError,
  IncompleteReadError,
  LimitOverrunError,
  BrokenBarrierError,
  SendfileNotAvailableError,
  ExceptionGroup,
} from "./exceptions.ts";
