/**
 * The process layer's surface for the loop: subprocess transports, signal handlers, executors.
 * @module
 */
export { runInExecutor } from "./executors.ts";
export { addSignalHandler, removeAllSignalHandlers, removeSignalHandler } from "./signals.ts";
export {
  ChildProcessTransport,
  closeSubprocessTransports,
  subprocessExec,
  subprocessShell,
} from "./subprocess-transport.ts";
