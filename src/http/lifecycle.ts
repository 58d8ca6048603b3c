/**
 * The application's startup and shutdown hooks (aiohttp's `on_startup`, `on_shutdown`,
 * `cleanup_ctx`), run by `app.serve()` and the server's shutdown.
 *
 * Order (API.md): at startup the `onStartup` hooks, then the part before `yield` of each
 * `cleanupCtx` generator, in registration order; at shutdown the `onShutdown` hooks, then the
 * part after `yield` of each started generator, in reverse order. A failing startup undoes the
 * generators already started and fails `serve()`; a failing shutdown hook is reported to the
 * loop's exception handler and the others still run.
 * @module
 */
import { getRunningLoop } from "../core/index.ts";
import type { Application } from "./application.ts";
import type { ServerLifecycle } from "./server.ts";

/** A startup or shutdown hook: gets the application. */
export type AppHook = (app: Application) => PromiseLike<void> | void;

/** A `cleanupCtx` function: an async generator that yields once, between startup and cleanup. */
export type CleanupContext = (app: Application) => AsyncGenerator<unknown, void, undefined>;

/** The hooks an application registered. @internal */
export interface Hooks {
  startup: AppHook[];
  shutdown: AppHook[];
  cleanup: CleanupContext[];
}

/**
 * Runs the startup half and returns what the server runs at shutdown. @internal
 * @throws whatever a startup hook throws (after undoing the started cleanup contexts).
 */
export async function startLifecycle(app: Application, hooks: Hooks): Promise<ServerLifecycle> {
  const started: AsyncGenerator<unknown, void, undefined>[] = [];
  const undo = async (): Promise<void> => {
    for (const gen of started.reverse()) {
      try {
        const step = await gen.next();
        if (!step.done) {
          await gen.return(undefined);
          throw new TypeError("a cleanupCtx generator must yield exactly once (startup before the yield, cleanup after)");
        }
      } catch (error) {
        getRunningLoop().callExceptionHandler({ message: "error in the cleanup half of a cleanupCtx", exception: error });
      }
    }
    started.length = 0;
  };
  try {
    for (const hook of hooks.startup) await hook(app);
    for (const ctx of hooks.cleanup) {
      const gen = ctx(app);
      if (typeof gen?.next !== "function") throw new TypeError("cleanupCtx() takes an async generator function: async function* (app) { ...; yield; ... }");
      const step = await gen.next();
      if (step.done) throw new TypeError("a cleanupCtx generator must yield once (it returned before its yield)");
      started.push(gen);
    }
  } catch (error) {
    await undo();
    throw error;
  }
  let shutDown = false;
  return {
    async shutdown() {
      if (shutDown) return;
      shutDown = true;
      for (const hook of hooks.shutdown) {
        try {
          await hook(app);
        } catch (error) {
          getRunningLoop().callExceptionHandler({ message: "error in an onShutdown hook", exception: error });
        }
      }
    },
    cleanup: undo,
  };
}
