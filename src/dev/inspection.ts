/**
 * Opt-in inspection of a running process by `aiots ps PID` and `aiots pstree PID`.
 *
 * How it works: `enableInspection()` (or `AIOTS_INSPECT=1` in the environment when aiots is
 * imported) listens on a Unix socket that only the process's own user can reach: the socket is
 * `aiots-<pid>.sock` in a directory `aiots-<uid>` of `$XDG_RUNTIME_DIR` (or the temp dir) created
 * with mode 0700, and the socket itself is chmod 0600. A client writes one JSON line
 * (`{"command":"ps"}`) and reads one JSON line back: the running loop's task table (see
 * `taskTable` in `graph.ts`). Nothing is exposed on TCP. The server is unref'd (it never keeps the
 * process alive) and the socket file is removed at exit. Where each task waits (the WHERE column)
 * is recorded only on request (`awaitSites: true`, `AIOTS_INSPECT=sites`) or in debug mode: it
 * takes a promise hook and a stack capture per await, several times the cost of an await.
 * @module
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { type AbstractEventLoop, getRunningLoopOrNull, startAwaitSites, stopAwaitSites, log } from "../core/index.ts";
import { taskTable, type TaskRow } from "./graph.ts";

/** What `aiots ps` receives: the target's pid and its running loop's tasks. */
export interface InspectionReply {
  pid: number;
  /** Whether an aiots loop was running when asked (no loop: no tasks). */
  running: boolean;
  tasks: TaskRow[];
  /** Whether await sites are recorded (the `where` column). */
  awaitSites: boolean;
  error?: string;
}

let server: NetServer | null = null;
let socketPath: string | null = null;
let withSites = false;

/** The directory holding the inspection sockets of the current user (created 0700 if missing). */
function socketDirectory(create: boolean): string {
  const base = process.env["XDG_RUNTIME_DIR"] ?? tmpdir();
  const uid = typeof process.getuid === "function" ? process.getuid() : userInfo().uid;
  const dir = join(base, `aiots-${uid}`);
  if (create) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Refuse a directory someone else made or opened up: the socket must be ours alone.
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
      throw new Error(`enableInspection(): ${dir} must be a directory owned by uid ${uid} with mode 0700; remove it and retry`);
    }
  }
  return dir;
}

/**
 * The inspection socket path of process `pid` (default: this one), the one `aiots ps PID` connects
 * to. It exists only while that process has inspection enabled.
 * @example
 * ```ts
 * import { inspectionSocketPath } from "aiots";
 * console.log(inspectionSocketPath(4242)); // /run/user/1000/aiots-1000/aiots-4242.sock
 * ```
 */
export function inspectionSocketPath(pid: number = process.pid): string {
  return join(socketDirectory(false), `aiots-${pid}.sock`);
}

function reply(): InspectionReply {
  const loop = getRunningLoopOrNull() as AbstractEventLoop | null;
  if (loop === null) return { pid: process.pid, running: false, tasks: [], awaitSites: withSites };
  return { pid: process.pid, running: true, tasks: taskTable(loop), awaitSites: withSites };
}

function serve(socket: Socket): void {
  let input = "";
  socket.setEncoding("utf8");
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: string) => {
    input += chunk;
    const newline = input.indexOf("\n");
    if (newline < 0) {
      if (input.length > 4096) socket.destroy();
      return;
    }
    let answer: InspectionReply;
    try {
      const request = JSON.parse(input.slice(0, newline)) as { command?: unknown };
      if (request.command !== "ps") throw new Error(`unknown command ${JSON.stringify(request.command)}: the only command is "ps"`);
      answer = reply();
    } catch (error) {
      answer = { pid: process.pid, running: false, tasks: [], awaitSites: withSites, error: error instanceof Error ? error.message : String(error) };
    }
    socket.end(`${JSON.stringify(answer)}\n`);
  });
}

function removeSocketFile(): void {
  if (socketPath === null) return;
  try {
    unlinkSync(socketPath);
  } catch {
    // Already gone.
  }
}

/**
 * Lets `aiots ps PID` / `aiots pstree PID` read this process's tasks, through a Unix socket only
 * this user can open (see the module note). Idempotent; resolves to the socket's path once
 * listening. `awaitSites: true` also records where each task waits (costly: a promise hook and a
 * stack capture per await; debug mode records them anyway).
 * @throws {Error} if the socket directory exists but is not private to this user.
 * @example
 * ```ts
 * import { run, enableInspection, sleep } from "aiots";
 * await run(async () => {
 *   await enableInspection({ awaitSites: true }); // now: npx aiots ps <this pid>
 *   await sleep(60);
 * });
 * ```
 */
export async function enableInspection(options: { awaitSites?: boolean } = {}): Promise<string> {
  if (server !== null && socketPath !== null) return socketPath;
  const path = join(socketDirectory(true), `aiots-${process.pid}.sock`);
  socketPath = path;
  // At once, not after listening: tasks suspending meanwhile get their sites recorded too.
  if (options.awaitSites === true && !withSites) {
    withSites = true;
    startAwaitSites();
  }
  removeSocketFile(); // a stale socket of an earlier process with this pid
  const listening = createServer(serve);
  server = listening;
  await new Promise<void>((resolve, reject) => {
    listening.once("error", reject);
    listening.listen(path, () => {
      listening.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  listening.unref();
  process.once("exit", removeSocketFile);
  log("inspection socket listening at %s", path);
  return path;
}

/**
 * Stops answering `aiots ps` and removes the socket (and stops recording await sites if it
 * started that). Idempotent.
 * @example
 * ```ts
 * import { enableInspection, disableInspection } from "aiots";
 * await enableInspection();
 * disableInspection();
 * ```
 */
export function disableInspection(): void {
  if (server === null) return;
  server.close();
  server = null;
  removeSocketFile();
  process.removeListener("exit", removeSocketFile);
  socketPath = null;
  if (withSites) stopAwaitSites();
  withSites = false;
}

const inspectEnv = process.env["AIOTS_INSPECT"];
if (inspectEnv === "1" || inspectEnv === "sites") {
  enableInspection({ awaitSites: inspectEnv === "sites" }).catch((error: unknown) => {
    process.emitWarning(`AIOTS_INSPECT=${inspectEnv}: could not open the inspection socket: ${error instanceof Error ? error.message : String(error)}`);
  });
}
