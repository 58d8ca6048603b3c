/**
 * Helpers for Node peer scripts of client/server suites: the CPU each side used, so a report can
 * show when the load client, not the server, was the bottleneck. `runMeasured` runs a load client
 * under the rusage wrapper (Node cannot read a child's rusage itself); `processCpuSeconds` reads a
 * still-running process's CPU (e.g. the server, just before stopping it) from /proc.
 *
 * @example
 * const server = spawn(process.execPath, ["bench/echo/server.ts"]);
 * const client = await runMeasured(["bench/.build/echo/client", "127.0.0.1", port, "5"]);
 * report(Number(client.stdout.trim()), { serverCpu: processCpuSeconds(server.pid!), clientCpu: client.cpuSec });
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "./results.ts";

const rusage = path.join(repoRoot, "bench", ".build", "harness", "rusage");

/** What `runMeasured` returns for a finished load client. */
export interface Measured {
  stdout: string;
  stderr: string;
  /** Exit status (128 + signal when killed). */
  code: number;
  /** User + system CPU seconds of the program and the children it waited for; NaN without the wrapper. */
  cpuSec: number;
  maxRssBytes: number;
}

/**
 * Runs `argv` to completion under `bench/.build/harness/rusage` (built by bench/setup.sh) and
 * returns its output and CPU. Without the wrapper it still runs, with `cpuSec` NaN.
 * @throws Error when the program exits non-zero (message: its stderr).
 */
export function runMeasured(argv: string[], options: { env?: Record<string, string>; timeoutSeconds?: number } = {}): Promise<Measured> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "aiots-rusage-"));
  const usageFile = path.join(dir, "usage.json");
  const wrapped = existsSync(rusage);
  const [program, ...args] = wrapped ? [rusage, usageFile, ...argv] : argv;
  return new Promise((resolve, reject) => {
    execFile(
      program!,
      args,
      { cwd: repoRoot, env: { ...process.env, ...options.env }, maxBuffer: 64 * 2 ** 20, timeout: (options.timeoutSeconds ?? 300) * 1000 },
      (error, stdout, stderr) => {
        let cpuSec = Number.NaN;
        let maxRssBytes = Number.NaN;
        try {
          const u = JSON.parse(readFileSync(usageFile, "utf8")) as { userSec: number; sysSec: number; maxRssKb: number };
          cpuSec = u.userSec + u.sysSec;
          maxRssBytes = u.maxRssKb * 1024;
        } catch {
          // no wrapper or it could not write: CPU unknown
        }
        rmSync(dir, { recursive: true, force: true });
        if (error) {
          reject(new Error(`${argv.join(" ")} failed: ${stderr.trim() || error.message}`));
          return;
        }
        resolve({ stdout, stderr, code: 0, cpuSec, maxRssBytes });
      },
    );
  });
}

/** User + system CPU seconds a running process has used so far (Linux /proc); NaN if it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}
