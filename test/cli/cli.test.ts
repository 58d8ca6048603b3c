import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { statSync, existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = `${root}bin/aiots.js`;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `aiots ...args` with this Node to completion. */
async function aiots(args: string[], input?: string, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, AIOTS_DEBUG: "", ...env } });
  return collect(child, input);
}

async function collect(child: ChildProcess, input?: string): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  if (input !== undefined) child.stdin!.end(input);
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

/** Starts a node program and resolves once it printed `ready`. */
async function startReady(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; output: () => string }> {
  // Debug mode off unless asked (CI runs the suite again with AIOTS_DEBUG=1): it records await sites.
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, AIOTS_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (s: string) => {
      out += s;
      if (out.includes("ready\n")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before it was ready: ${out}`)));
  });
  return { child, output: () => out };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

test("aiots ps PID and pstree PID: the task table, the await tree, cycles reported with exit status 1", async () => {
  const { child } = await startReady(["test/fixtures/inspect-target.ts"], { AIOTS_INSPECT: "sites" });
  try {
    const [ps, tree] = await Promise.all([aiots(["ps", String(child.pid)]), aiots(["pstree", String(child.pid)])]);
    assert.equal(ps.code, 0, ps.stderr);
    const lines = ps.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^ID\s+NAME\s+STATE\s+AWAITING\s+AWAITED BY\s+WHERE$/);
    const row = (name: string): string => lines.find((l) => new RegExp(`^\\d+\\s+${name}\\s`).test(l)) ?? "";
    assert.match(row("gatherer"), /gather\(Task fetcher-1 \(#\d+\), Task fetcher-2 \(#\d+\)\)/);
    assert.match(row("fetcher-1"), /<sleep pending>\s+#\d+\s+worker \(.*inspect-target\.ts:\d+:\d+\)$/);
    assert.match(row("member"), /#\d+\s+worker \(/);
    assert.match(row("ring-a"), /Task ring-b/);

    assert.equal(tree.code, 1);
    assert.match(tree.stdout, /── \(T\) gatherer #\d+\n│ {3}├── \(T\) fetcher-1 #\d+ {2}worker \(.*\n│ {3}└── \(T\) fetcher-2 #\d+/);
    assert.match(tree.stdout, /── \(T\) group #\d+.*\n {4}└── \(T\) member #\d+/);
    assert.match(tree.stdout, /cycle .*: ring-(a|b) #\d+ -> ring-(a|b) #\d+ -> ring-\1 #\d+/);
  } finally {
    await stop(child);
  }
});

test("the inspection socket is private (0600 in a 0700 directory) and removed when the process exits", async () => {
  const { child } = await startReady(["test/fixtures/inspect-target.ts"], { AIOTS_INSPECT: "1" });
  const { inspectionSocketPath } = await import("../../src/index.ts");
  const path = inspectionSocketPath(child.pid);
  try {
    assert.ok(statSync(path).isSocket());
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
    // AIOTS_INSPECT=1: tasks and edges, but no await sites (no promise hook in the target).
    const { stdout } = await aiots(["ps", String(child.pid)]);
    assert.match(stdout, /fetcher-1 +pending +<sleep pending> +#\d+\n/);
    assert.match(stdout, /WHERE is recorded only when the target runs with AIOTS_INSPECT=sites/);
  } finally {
    await stop(child);
  }
  // A process that exits normally removes its socket.
  const { code, stdout } = await aiots(["run", "test/fixtures/cli-main.ts", "socket"], undefined, { AIOTS_INSPECT: "1" });
  assert.equal(code, 0);
  const [socket, existed] = stdout.trim().split(" ");
  assert.equal(existed, "true");
  assert.equal(existsSync(socket!), false);
});

test("aiots ps refuses a process that did not opt in, and says how to opt in", async () => {
  const { child } = await startReady(["-e", "console.log('ready'); setTimeout(() => {}, 60000)"]);
  try {
    const { code, stderr } = await aiots(["ps", String(child.pid)]);
    assert.equal(code, 1);
    assert.match(stderr, /does not accept inspection .*AIOTS_INSPECT=1.*enableInspection\(\)/);
  } finally {
    await stop(child);
  }
  const bad = await aiots(["ps", "not-a-pid"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected a process id/);
});

test("aiots run FILE: runs the default export under run(), exit status from its result", async () => {
  const [done, plain, debug] = await Promise.all([
    aiots(["run", "test/fixtures/cli-main.ts", "exit"]),
    aiots(["run", "test/fixtures/cli-main.ts", "debug"], undefined, { AIOTS_DEBUG: "" }),
    aiots(["run", "test/fixtures/cli-main.ts", "--debug", "debug"]),
  ]);
  assert.equal(done.code, 3, done.stderr);
  assert.equal(plain.stdout, "debug=false\n");
  assert.equal(debug.stdout, "debug=true\n");
  const notMain = await aiots(["run", "test/helpers/index.ts"]);
  assert.equal(notMain.code, 2);
  assert.match(notMain.stderr, /has no default-exported function/);
});

test("aiots run FILE: SIGINT cancels main (its finally runs) and exits 130", async () => {
  const { child, output } = await startReady([cli, "run", "test/fixtures/cli-main.ts", "wait"]);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = once(child, "exit");
  child.kill("SIGINT");
  const [code] = (await exited) as [number | null];
  assert.equal(code, 130);
  assert.equal(output(), "ready\ncleanup\n");
  assert.match(stderr, /KeyboardInterrupt/);
});

test("aiots repl: top-level await on a running aiots loop, each input in its own task", async () => {
  const input = [
    "await sleep(0.01, 6 * 7)",
    "currentTask().getName()",
    "const t = createTask(async () => { await sleep(0); return 'child done'; })",
    "await t",
    "await timeout(0.01, () => sleep(10)).catch((e) => e.name)",
    ".exit",
    "",
  ].join("\n");
  const { code, stdout, stderr } = await aiots(["repl"], input);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /aiots REPL/);
  assert.match(stdout, /\b42\b/);
  assert.match(stdout, /'repl-2'/);
  assert.match(stdout, /'child done'/);
  assert.match(stdout, /'TimeoutError'/);
});
