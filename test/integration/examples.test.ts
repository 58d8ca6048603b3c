/**
 * Runs the tour (`npm start`, in its --quick form) and every example as a child process and checks
 * what they print. The examples' own modules are exercised for real: servers, clients, feeds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
// The examples run as users run them: without debug mode, whose slow-step reports (the fast-loop
// demo creates 100k tasks in one step on purpose) would go to stderr.
const env = { ...process.env, AIOTS_DEBUG: "" };

async function runExample(name: string, ...args: string[]): Promise<string[]> {
  const { stdout, stderr } = await execFileP(process.execPath, [`examples/${name}.ts`, ...args], { cwd: root, env, timeout: 20_000 });
  assert.equal(stderr, "", `${name} wrote to stderr`);
  return stdout.trimEnd().split("\n");
}

void test("the tour runs the six demos in order, explains each, and shuts down cleanly", async () => {
  const lines = await runExample("tour", "--quick");
  const headings = lines.filter((l) => /^\[\d\] [a-z]/.test(l) && !/^\[\d\] (received|event)/.test(l));
  assert.deepEqual(
    headings.map((l) => l.slice(0, 3)),
    ["[1]", "[5]", "[3]", "[2]", "[4]", "[6]"],
  );
  assert.ok(lines.includes("    fast (every 0.2 s) cancelled at its await sleep(0.2)"));
  assert.ok(lines.some((l) => /^ {4}100,000 task switches \(one task awaiting sleep\(0\)\): \d+ ms, \d+\.\d\d µs per switch$/.test(l)));
  assert.ok(lines.some((l) => /^ {4}spawning 10,000 tasks, each awaiting sleep\(0\), warmed up and alternated: \d+ ms/.test(l)));
  assert.ok(lines.some((l) => /^ {4}serving on http:\/\/127\.0\.0\.1:\d+\/ \(JSON\) and ws:\/\/127\.0\.0\.1:\d+\/feed/.test(l)));
  assert.ok(lines.includes("    10 responses, in request order: 1 2 3 4 5 6 7 8 9 10"));
  assert.ok(lines.includes('[4] received {"seq":1,"symbol":"AIO","price":101.68}'));
  assert.deepEqual(
    lines.filter((l) => l.startsWith("[6] event #")).map((l) => l.split(":")[0]),
    ["[6] event #1", "[6] event #2", "[6] event #3"],
  );
  assert.match(lines.at(-1)!, /^done in \d+\.\d s: every task finished, every socket closed$/);
});

void test("each demo is also a runnable example", async () => {
  const [tasks, gatherLines, client, events, fast] = await Promise.all([
    runExample("tasks"),
    runExample("http-gather"),
    runExample("ws-client", "--quick"),
    runExample("ws-events", "--quick"),
    runExample("fast-loop", "--quick"),
  ]);
  assert.equal(tasks.filter((l) => l.includes("cancelled at its await")).length, 2);
  assert.ok(tasks.indexOf("    fast (every 0.2 s) #2") < tasks.indexOf("    slow (every 0.5 s) #2"));
  assert.equal(gatherLines[0], "    10 responses, in request order: 1 2 3 4 5 6 7 8 9 10");
  assert.ok(client.length >= 2 && client.every((l) => l.startsWith('    received {"seq":')), client.join("\n"));
  assert.deepEqual(events.map((l) => l.split(":")[0]), ["    event #1", "    event #2", "    event #3"]);
  assert.match(fast[0]!, /^ {4}100,000 task switches \(one task awaiting sleep\(0\)\): \d+ ms, \d+\.\d\d µs per switch$/);
  assert.match(fast[1]!, /one setImmediate per switch instead: \d+\.\d\d µs per switch \(the aiots loop is \d+\.\dx faster\)/);
  assert.ok(fast.some((l) => /raw promises \+ setImmediate, same work: \d+ ms \(aiots\/raw = \d+\.\d\dx/.test(l)), fast.join("\n"));
});

void test("examples/server.ts serves until SIGTERM, then exits cleanly", async () => {
  const child = spawn(process.execPath, ["examples/server.ts"], { cwd: root, env: { ...env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
    const url = /serving on (http:\S+)/.exec(line)?.[1];
    assert.ok(url !== undefined, line);
    const body = await (await fetch(url)).json();
    assert.deepEqual(body, { message: "Hello, aiots !" });
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal(stderr, "");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
