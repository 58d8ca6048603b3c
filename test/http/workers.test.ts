// serveForever({ workers }) with real worker processes: sharing the port, replacing dead workers
// with a backoff, graceful SIGTERM/SIGINT, SIGHUP rolling restart, no orphans.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { run } from "../../src/index.ts";
import { Application } from "../../src/http.ts";
import { connect } from "../../src/ws.ts";
import { RedisServer, freePort } from "../helpers/redis.ts";

const appScript = fileURLToPath(new URL("./fixtures/workers-app.ts", import.meta.url));

interface Primary {
  child: ChildProcess;
  port: number;
  /** stderr lines (the supervisor's) and stdout lines, as they came. */
  log: string[];
  stdout: string[];
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** Resolves once `count` log lines match `pattern`. */
  waitLog(pattern: RegExp, count?: number, seconds?: number): Promise<string[]>;
}

async function startPrimary(workers: string, options: { mode?: string; env?: Record<string, string>; port?: number } = {}): Promise<Primary> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [appScript, String(port), workers, options.mode ?? ""], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  const log: string[] = [];
  const stdout: string[] = [];
  const watchers = new Set<() => void>();
  createInterface({ input: child.stderr }).on("line", (line) => {
    log.push(line);
    for (const w of watchers) w();
  });
  createInterface({ input: child.stdout }).on("line", (line) => stdout.push(line));
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    port,
    log,
    stdout,
    exited,
    waitLog: (pattern, count = 1, seconds = 60) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const matching = log.filter((line) => pattern.test(line));
          if (matching.length >= count) {
            watchers.delete(check);
            clearTimeout(timer);
            resolve(matching);
          }
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`wanted ${count} lines matching ${pattern} within ${seconds} s; the log:\n${log.join("\n")}`));
        }, seconds * 1000);
        watchers.add(check);
        check();
      }),
  };
}

// One GET on a fresh connection (no keep-alive, so the kernel picks a worker each time).
function get(port: number, path = "/"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function workerPids(lines: string[]): number[] {
  return lines.map((line) => Number(/\(pid (\d+)\) started/.exec(line)?.[1])).filter((pid) => pid > 0);
}

async function eventually(check: () => boolean, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} (after ${seconds} s)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

void test("workers: 2 share the port, a dead worker is replaced, SIGTERM lets a running request finish, the primary returns and leaves no orphan", async () => {
  const primary = await startPrimary("2");
  try {
    const started = await primary.waitLog(/worker \d \(pid \d+\) started, listening on http:\/\/127\.0\.0\.1:\d+/, 2);
    assert.match(primary.log[0]!, /primary \(pid \d+\) starting 2 workers on http:\/\/127\.0\.0\.1:\d+/);
    const pids = workerPids(started);
    assert.equal(new Set(pids).size, 2);
    assert.ok(!pids.includes(primary.child.pid!), "the primary serves nothing itself");
    // New connections are spread over both workers.
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) seen.add((await get(primary.port)).body);
    assert.deepEqual([...seen].map((body) => /^worker (\d) pid/.exec(body)?.[1]).sort(), ["1", "2"]);

    // A worker that dies is replaced (after a short backoff) and the port keeps answering.
    process.kill(pids[0]!, "SIGKILL");
    await primary.waitLog(new RegExp(`worker \\d \\(pid ${pids[0]}\\) exited \\(signal SIGKILL\\); starting a new one in 0\\.1 s`));
    const all = await primary.waitLog(/started, listening/, 3);
    const replacement = workerPids(all).find((pid) => !pids.includes(pid))!;
    for (let i = 0; i < 10; i++) assert.equal((await get(primary.port)).status, 200);

    // SIGTERM: a request in flight completes, every worker exits, the primary returns normally.
    const slow = get(primary.port, "/slow");
    await new Promise((resolve) => setTimeout(resolve, 300));
    primary.child.kill("SIGTERM");
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.match(answer.body, /^slow done by \d+$/);
    const [code, signal] = await primary.exited;
    assert.equal(signal, null);
    assert.equal(code, 0, primary.log.join("\n"));
    assert.deepEqual(primary.stdout, ["primary returned"]);
    assert.equal(primary.log.filter((line) => /exited \((code|signal) /.test(line)).length, 3, primary.log.join("\n"));
    assert.match(primary.log.at(-1)!, /primary \(pid \d+\) stopped/);
    for (const pid of [pids[1]!, replacement]) assert.equal(alive(pid), false, `worker ${pid} outlived the primary`);
  } finally {
    primary.child.kill("SIGKILL");
  }
});

// Under node:cluster the primary holds the listening socket, so a rolling restart refuses nothing.
// Under SO_REUSEPORT, Linux resets the connections still queued on a worker's socket when it
// closes (unless net.ipv4.tcp_migrate_req = 1): the second test checks the restart, not a zero.
for (const [sharing, strict] of [["cluster", true], ["reuseport", false]] as const) {
  void test(`workers: "auto" starts os.availableParallelism() workers; SIGHUP restarts them one by one${strict ? " with no failed request" : ""}; SIGINT stops them (${sharing})`, async (t) => {
  const primary = await startPrimary("auto", { env: { AIOTS_PORT_SHARING: sharing } });
  const count = availableParallelism();
  try {
    const first = workerPids(await primary.waitLog(/started, listening/, count));
    let failures = 0;
    const errors = new Set<string>();
    let requests = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          const { status } = await get(primary.port);
          if (status !== 200) {
            failures++;
            errors.add(`status ${status}`);
          }
        } catch (error) {
          failures++;
          errors.add((error as NodeJS.ErrnoException).code ?? (error as Error).message);
        }
        requests++;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    primary.child.kill("SIGHUP");
    const after = workerPids(await primary.waitLog(/started, listening/, 2 * count));
    await eventually(() => first.every((pid) => !alive(pid)), 30, "the old workers did not stop");
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop = true;
    await load;
    assert.equal(new Set(after).size, 2 * count, "every worker was replaced by a new process");
    t.diagnostic(`${failures} of ${requests} requests failed during the rolling restart${failures > 0 ? ` (${[...errors].join("; ")})` : ""}`);
    // Under cluster nothing may fail. (Two causes were found and fixed: a worker that exited with a
    // connection still on its way from the primary left that client hanging, src/http/workers.ts;
    // a connection accepted just before a worker's close was reset as "idle", src/http/server.ts.)
    if (strict) assert.equal(failures, 0, `${failures} of ${requests} requests failed during the rolling restart: ${[...errors].join("; ")}`);
    else assert.ok(failures <= Math.max(3, requests / 100), `${failures} of ${requests} requests failed during the rolling restart`);
    assert.ok(requests > 5);
    assert.match(primary.log[0]!, sharing === "cluster" ? /node:cluster round-robin/ : /SO_REUSEPORT/);
    primary.child.kill("SIGINT");
    const [code] = await primary.exited;
    assert.equal(code, 0, primary.log.join("\n"));
    for (const pid of after) assert.equal(alive(pid), false);
  } finally {
    primary.child.kill("SIGKILL");
  }
  });
}

void test("workers that die before they listen are restarted with a growing backoff, then the primary gives up with an error", async () => {
  const start = Date.now();
  const primary = await startPrimary("1", { mode: "fail-start" });
  try {
    const [code] = await primary.exited;
    assert.equal(code, 1);
    const delays = primary.log.map((line) => Number(/starting a new one in ([\d.]+) s/.exec(line)?.[1])).filter((d) => d > 0);
    assert.deepEqual(delays, [0.1, 0.2, 0.4, 0.8]);
    assert.ok(Date.now() - start >= 1400, "the restarts were not spaced out");
    assert.ok(primary.log.some((line) => /exited before it was ready 5 times in a row \(last: code 1\)/.test(line)), primary.log.join("\n"));
  } finally {
    primary.child.kill("SIGKILL");
  }
});

void test("a primary killed with SIGKILL leaves no worker behind", async () => {
  const primary = await startPrimary("2");
  try {
    const pids = workerPids(await primary.waitLog(/started, listening/, 2));
    primary.child.kill("SIGKILL");
    await primary.exited;
    await eventually(() => pids.every((pid) => !alive(pid)), 20, "a worker outlived its SIGKILLed primary");
  } finally {
    primary.child.kill("SIGKILL");
  }
});

void test("bad input: workers must be a positive integer or auto; a port in use fails at once", async () => {
  await run(async () => {
    const app = new Application();
    await assert.rejects(app.serveForever({ workers: 0 }), /workers must be a positive integer or "auto", got 0/);
    await assert.rejects(app.serveForever({ workers: 1.5 }), RangeError);
    await assert.rejects(app.serveForever({ workers: "all" as never }), RangeError);
    await using busy = await app.serve({ host: "127.0.0.1", port: 0 });
    const port = (busy.sockets[0]!.getsockname() as [string, number])[1];
    await assert.rejects(app.serveForever({ host: "127.0.0.1", port, workers: 2 }), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
  });
});

void test("redisChannels across workers: a broadcast received by one worker reaches members connected to the other", async () => {
  const redis = await RedisServer.start();
  const primary = await startPrimary("2", { env: { REDIS_URL: redis.url } });
  try {
    await primary.waitLog(/started, listening/, 2);
    await run(async () => {
      // Connect until two clients are on different workers.
      const clients = new Map<string, Awaited<ReturnType<typeof connect>>>();
      for (let i = 0; i < 100 && clients.size < 2; i++) {
        const ws = await connect(`ws://127.0.0.1:${primary.port}/room`);
        const pid = String(await ws.recv()).replace("joined ", "");
        if (clients.has(pid)) await ws.close();
        else clients.set(pid, ws);
      }
      assert.equal(clients.size, 2, "could not reach both workers");
      const [a, b] = [...clients.values()];
      await a!.send("across workers");
      assert.equal(await b!.recv(), "across workers");
      assert.equal(await a!.recv(), "across workers");
      for (const ws of clients.values()) await ws.close();
    });
    primary.child.kill("SIGTERM");
    const [code] = await primary.exited;
    assert.equal(code, 0, primary.log.join("\n"));
  } finally {
    primary.child.kill("SIGKILL");
    await redis.stop();
  }
});
