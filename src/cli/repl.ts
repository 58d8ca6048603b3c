/**
 * `aiots repl`: Node's REPL with an aiots loop running underneath (what `python -m asyncio` is).
 *
 * How it works: the loop runs forever in the background (`runForever`), so the REPL's own top-level
 * `await` waits on aiots futures while the loop turns. Each input is evaluated inside a task of its
 * own, so `currentTask()`, `timeout()` and cancellation work at the prompt; Ctrl-C during an `await`
 * returns to the prompt and cancels that input's task, which throws `CancelledError` at the aiots
 * await it is suspended on. The whole aiots API is in scope, and as `aiots`.
 */
import repl, { type REPLEval } from "node:repl";
import * as aiots from "../index.ts";

export interface ReplOptions {
  debug?: boolean;
}

/** Starts the REPL on stdin/stdout; resolves when it exits (`.exit`, Ctrl-D), with the loop closed. */
export async function startRepl(options: ReplOptions = {}): Promise<void> {
  const loop = aiots.newEventLoop();
  aiots.setEventLoop(loop);
  if (options.debug !== undefined) loop.setDebug(options.debug);
  const stopped = loop.runForever();
  process.stdout.write(`aiots REPL (Node ${process.version}): top-level await runs on the aiots loop; the aiots API is in scope.\n`);
  const server = repl.start({ prompt: "aiots> ", useGlobal: false });
  Object.assign(server.context, aiots, { aiots });
  const defaultEval = server.eval;
  let inputs = 0;
  // Inputs run one after the other, as typed: piped input arrives all at once, and the REPL would
  // otherwise start the next line while the previous one is still awaiting.
  let previous: Promise<void> = Promise.resolve();
  const evalInTask: REPLEval = function (this: repl.REPLServer, code, context, file, callback) {
    const name = `repl-${++inputs}`;
    const runInput = (): Promise<void> => {
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const task = loop.createTask(() => {
        defaultEval.call(this, code, context, file, (error, value) => {
          if ((error as { code?: string } | null)?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED") task.cancel("interrupted at the REPL");
          finish();
          callback(error, value);
        });
        return finished;
      }, { name });
      return finished;
    };
    previous = previous.then(runInput);
  };
  (server as { eval: REPLEval }).eval = evalInTask;
  await new Promise<void>((resolve) => server.once("exit", resolve));
  await previous; // inputs still running when the input ended (piped input, Ctrl-D)
  loop.stop();
  await stopped;
  const leftover = [...aiots.allTasks(loop)];
  for (const task of leftover) task.cancel();
  await loop.runUntilComplete(() => aiots.gather(leftover, { returnExceptions: true }));
  aiots.setEventLoop(null);
  loop.close();
}
