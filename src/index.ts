/**
 * aiots: Python's asyncio for TypeScript on Node.js. This file only re-exports.
 * @module
 */
export { run, Runner, KeyboardInterrupt, type RunnerOptions } from "./loop/runners.ts";
export { Future, isFuture, type DoneCallback } from "./core/futures.ts";
export { Task, createTask, currentTask, allTasks, ensureFuture, eagerTaskFactory, type TaskConstructorOptions } from "./core/tasks.ts";
export { sleep } from "./core/sleep.ts";
export { abortable } from "./core/foreign-futures.ts";
export { gather, shield, type Awaitable, type GatherOptions, type GatherOutcomes, type GatherResults } from "./core/gather.ts";
export { wait, asCompleted, AsCompleted, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, type ReturnWhen, type WaitOptions } from "./core/wait.ts";
export { timeout, timeoutAt, Timeout, waitFor } from "./core/timeouts.ts";
export { taskGroup, TaskGroup } from "./core/task-groups.ts";
export { captureCallGraph, formatCallGraph, printCallGraph, type CallGraphOptions, type FrameCallGraphEntry, type FutureCallGraph, type TaskRow } from "./dev/graph.ts";
export { enableInspection, disableInspection, inspectionSocketPath, type InspectionReply } from "./dev/inspection.ts";
export { Lock, Event, Condition, Semaphore, BoundedSemaphore } from "./sync/locks.ts";
export { Barrier, type BarrierPosition } from "./sync/barrier.ts";
export { Queue, PriorityQueue, LifoQueue, QueueEmpty, QueueFull, QueueShutDown, type PriorityQueueOptions } from "./sync/queues.ts";
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
} from "./core/events.ts";
export { EventLoop, newEventLoop } from "./loop/base-events.ts";
export {
  ThreadPoolExecutor,
  toThread,
  type SubmittingExecutor,
  type ThreadPoolExecutorOptions,
} from "./proc/executors.ts";
export { createSubprocessExec, createSubprocessShell, Process, PIPE, STDOUT, DEVNULL, type CreateSubprocessOptions, type StdioSpec } from "./proc/subprocess.ts";
export { ChildProcessTransport } from "./proc/subprocess-transport.ts";
export { Server, ServerSocket, type ServerClient, type ServerOptions } from "./core/servers.ts";
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
} from "./core/transports.ts";
export { BaseProtocol, Protocol, BufferedProtocol, DatagramProtocol, SubprocessProtocol, type StreamProtocol } from "./core/protocols.ts";
export { SocketTransport, type SocketTransportOptions } from "./net/socket-transport.ts";
export { AI_CANONNAME } from "./net/address-names.ts";
export { DatagramSocketTransport } from "./net/datagram-transport.ts";
export { ReadPipeTransport, WritePipeTransport } from "./net/pipe-transport.ts";
export type {
  AcceptedSocketOptions,
  AddrInfo,
  ConnectionOptions,
  DatagramEndpointOptions,
  FunctionJob,
  Job,
  JobOptions,
  ModuleJob,
  ServerCreateOptions,
  SslOption,
  SubprocessOptions,
  UnixServerCreateOptions,
} from "./core/loop-options.ts";
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
} from "./net/streams.ts";
export {
  CancelledError,
  TimeoutError,
  InvalidStateError,
  IncompleteReadError,
  LimitOverrunError,
  BrokenBarrierError,
  SendfileNotAvailableError,
  ExceptionGroup,
  type ErrorClass,
  type ErrorMatcher,
} from "./core/exceptions.ts";
