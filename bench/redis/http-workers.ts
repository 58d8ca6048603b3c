/**
 * HTTP hello-world with worker processes: `http-workers.ts <workers> <reuseport|cluster> [seconds]`
 * starts bench/redis/http-workers-server.ts with that many workers sharing the port that way, runs
 * an unrecorded 1 s wrk warm-up, then `wrk -t1 -c50 -d<seconds>s` (5 s), and reports requests per
 * second with the CPU seconds of the server side (primary + workers) and of wrk. The client shares
 * the machine's cores with the workers, so both sides' CPU is reported.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { processCpuSeconds, runMeasured } from "../harness/measure.ts";

const [workersArg = "1", sharing = "reuseport", seconds = "5"] = process.argv.slice(2);
if (sharing !== "reuseport" && sharing !== "cluster") throw new TypeError(`sharing must be reuseport or cluster, got ${sharing}`);
const workers = Number(workersArg);

const server = spawn(process.execPath, ["bench/redis/http-workers-server.ts", String(workers)], {
  stdio: ["ignore", "inherit", "pipe"],
  env: { ...process.env, AIOTS_PORT_SHARING: sharing },
});
const exited = once(server, "exit");
try {
  const pids: number[] = [];
  let port = 0;
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: server.stderr });
    lines.on("line", (line) => {
      const m = /\(pid (\d+)\) started, listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m === null) return;
      pids.push(Number(m[1]));
      port = Number(m[2]);
      if (pids.length === workers) resolve();
    });
    void exited.then(() => reject(new Error("the server exited before its workers listened")));
  });
  const url = `http://127.0.0.1:${port}/`;
  await runMeasured(["wrk", "-t1", "-c50", "-d1s", url]);
  const cpuBefore = [server.pid!, ...pids].reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const load = await runMeasured(["wrk", "-t1", "-c50", `-d${seconds}s`, url]);
  const serverCpu = [server.pid!, ...pids].reduce((sum, pid) => sum + processCpuSeconds(pid), 0) - cpuBefore;
  const m = /Requests\/sec:\s+([\d.]+)/.exec(load.stdout);
  if (m === null) throw new Error(`could not read Requests/sec from wrk's output:\n${load.stdout}`);
  if (/Non-2xx or 3xx responses|Socket errors/.test(load.stdout)) throw new Error(`errors under load:\n${load.stdout}`);
  const primaryCpu = processCpuSeconds(server.pid!);
  process.stdout.write(`${JSON.stringify({ value: Number(m[1]), extra: { serverCpu, primaryCpuTotal: primaryCpu, clientCpu: load.cpuSec } })}\n`);
} finally {
  server.kill("SIGTERM");
  await exited;
}
