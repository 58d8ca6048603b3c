/**
 * Rebuilds the C programs (load clients `bench/**\/client*.c`, the harness's `rusage` wrapper)
 * whose binary is missing or older than its source, the same way bench/setup.sh does, so that
 * editing a client and rerunning `npm run bench` never measures a stale binary.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./results.ts";
import { programExists } from "./runner.ts";

const benchDir = path.join(repoRoot, "bench");
const buildDir = path.join(benchDir, ".build");

function cSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full !== buildDir && entry.name !== "node_modules" && entry.name !== "results") out.push(...cSources(full));
    } else if (entry.name.endsWith(".c") && (entry.name.startsWith("client") || dir === path.join(benchDir, "harness"))) {
      out.push(full);
    }
  }
  return out;
}

/** Where the binary of a C source lives: bench/echo/client.c -> bench/.build/echo/client. */
export function binaryFor(source: string): string {
  return path.join(buildDir, path.relative(benchDir, source).replace(/\.c$/, ""));
}

/** Compiles stale C programs; returns messages for the log (including why nothing could be built). */
export function buildCPrograms(): string[] {
  const messages: string[] = [];
  const stale = cSources(benchDir).filter((src) => {
    const bin = binaryFor(src);
    return !existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs;
  });
  if (stale.length === 0) return messages;
  if (!programExists("gcc")) {
    return [`gcc not found: ${stale.length} C program(s) not built (run bench/setup.sh)`];
  }
  for (const src of stale) {
    const bin = binaryFor(src);
    mkdirSync(path.dirname(bin), { recursive: true });
    try {
      execFileSync("gcc", ["-O2", "-Wall", "-o", bin, src], { stdio: ["ignore", "ignore", "pipe"] });
      messages.push(`built ${path.relative(repoRoot, bin)}`);
    } catch (err) {
      messages.push(`could not build ${path.relative(repoRoot, src)}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
    }
  }
  return messages;
}
