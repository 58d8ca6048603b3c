#!/usr/bin/env node
// The `aiots` command. Its code is TypeScript (src/cli/aiots.ts), run by Node's type stripping
// (Node >= 23.6); under an older Node this launcher re-runs it with the Node 24 that the project
// pins (the `node` package), passing stdio, signals and the exit status through.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";

// A published package runs the compiled CLI (dist/, any Node >= 22); this repository runs the source.
const built = new URL("../dist/cli/aiots.js", import.meta.url);
const entry = new URL("../src/cli/aiots.ts", import.meta.url);
const [major, minor] = process.versions.node.split(".").map(Number);

if (existsSync(fileURLToPath(built)) && !existsSync(fileURLToPath(entry))) {
  await import(built.href);
} else if (major > 23 || (major === 23 && minor >= 6)) {
  await import(entry.href);
} else {
  let node;
  try {
    node = createRequire(import.meta.url).resolve("node/bin/node");
  } catch {
    node = fileURLToPath(new URL("../node_modules/.bin/node", import.meta.url));
  }
  if (!existsSync(node)) {
    process.stderr.write(`aiots: needs Node >= 23.6 (this is ${process.version}); install the project's dev dependencies (npm install) to get Node 24\n`);
    process.exit(1);
  }
  const child = spawn(node, [fileURLToPath(entry), ...process.argv.slice(2)], { stdio: "inherit" });
  // Ctrl-C reaches the child from the terminal (same process group): forwarding it too would
  // count as a second Ctrl-C. Other signals are passed on.
  process.on("SIGINT", () => {});
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
