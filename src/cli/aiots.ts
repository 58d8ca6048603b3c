/**
 * The `aiots` command: `ps PID`, `pstree PID`, `repl`, `run FILE [--debug] [args...]`.
 * Started by `bin/aiots.js`, which runs it with a Node that strips TypeScript types.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { KeyboardInterrupt, run } from "../index.ts";
import { fetchTasks, formatTable, formatTree } from "./ps.ts";
import { startRepl } from "./repl.ts";

const USAGE = `usage:
  aiots ps PID                  table of the tasks of process PID (id, name, state, awaiting, where)
  aiots pstree PID              the await tree of process PID; cycles reported
  aiots repl [--debug]          a REPL with a running aiots loop and top-level await
  aiots run FILE [--debug] [ARGS...]
                                run FILE's default-exported async main(args) under run()
The target of ps/pstree must run with AIOTS_INSPECT=1 (or call enableInspection()).`;

function fail(message: string, code = 2): never {
  process.stderr.write(`aiots: ${message}\n`);
  process.exit(code);
}

function parsePid(text: string | undefined): number {
  const pid = Number(text);
  if (text === undefined || !Number.isInteger(pid) || pid <= 0) fail(`expected a process id, got ${text === undefined ? "nothing" : JSON.stringify(text)}\n${USAGE}`);
  return pid;
}

async function runFile(args: string[]): Promise<void> {
  const debug = args.includes("--debug");
  const rest = args.filter((a) => a !== "--debug");
  const file = rest.shift();
  if (file === undefined) fail(`run needs a file\n${USAGE}`);
  const module = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  const main = module.default;
  if (typeof main !== "function") fail(`${file} has no default-exported function: add \`export default async function main(args: string[]) { ... }\``);
  try {
    const result: unknown = await run(() => (main as (args: string[]) => unknown)(rest), { debug });
    if (typeof result === "number" && Number.isInteger(result)) process.exitCode = result;
  } catch (error) {
    if (error instanceof KeyboardInterrupt) {
      process.stderr.write("KeyboardInterrupt\n");
      process.exitCode = 130;
      return;
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? String(error)) : String(error)}\n`);
    process.exitCode = 1;
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case "ps":
    case "pstree": {
      const pid = parsePid(args[0]);
      let reply;
      try {
        reply = await fetchTasks(pid);
      } catch (error) {
        fail(error instanceof Error ? error.message : String(error), 1);
      }
      if (command === "ps") {
        process.stdout.write(`${formatTable(reply)}\n`);
      } else {
        const { text, cycles } = formatTree(reply);
        process.stdout.write(`${text}\n`);
        if (cycles.length > 0) process.exitCode = 1;
      }
      return;
    }
    case "repl":
      return startRepl({ debug: args.includes("--debug") ? true : undefined });
    case "run":
      return runFile(args);
    case undefined:
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

await main(process.argv.slice(2));
