// The docs/production.md examples that need a real server (Redis, PostgreSQL) are typecheck-only
// in the docs test; their own test runs them here, as written, against a private server. Only the
// server's default URL is replaced, and the output must be the one the page shows.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { entrySources, repoRoot } from "./entries.ts";

const execFileP = promisify(execFile);
// As in test/integration/docs.test.ts: under AIOTS_DEBUG=1 a step that loads modules on a loaded
// machine can pass the slow-callback threshold; that report is about the machine, not the example.
const SLOW_CALLBACK_REPORT = /^Executing .* took [\d.]+ seconds\n[\s\S]*?^slowCallback: true\nduration: [\d.e-]+\n/gm;

interface Example {
  line: number;
  code: string;
  output: string;
}

/** The ```ts blocks of docs/production.md right after a line matching `marker`, with the output block each must show. */
function examplesAfter(marker: RegExp, what: string): Example[] {
  const lines = readFileSync(join(repoRoot, "docs", "production.md"), "utf8").split("\n");
  const examples: Example[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] !== "```ts" || !marker.test(lines[i - 1]!)) continue;
    let end = i + 1;
    while (lines[end] !== "```") end++;
    assert.equal(lines[end + 1], "<!-- docs: output -->", `docs/production.md:${i + 1}: a ${what} example shows its output`);
    let close = end + 3;
    while (lines[close] !== "```") close++;
    examples.push({
      line: i + 1,
      code: lines.slice(i + 1, end).join("\n") + "\n",
      output: lines.slice(end + 3, close).map((l) => `${l}\n`).join(""),
    });
    i = close;
  }
  return examples;
}

/**
 * Runs every docs/production.md example marked by `marker` in its own Node process, with
 * `defaultUrl` replaced by `url` and the aiots imports pointed at the sources, and checks that it
 * writes nothing to stderr and prints exactly the output the page shows.
 */
export async function runServerExamples(options: { marker: RegExp; what: string; expected: number; defaultUrl: string; url: string }): Promise<void> {
  const examples = examplesAfter(options.marker, options.what);
  assert.equal(examples.length, options.expected, `docs/production.md has ${options.expected} ${options.what} examples`);
  const urls = new Map([...entrySources()].map(([name, file]) => [name, pathToFileURL(file).href]));
  const dir = mkdtempSync(join(tmpdir(), "aiots-production-docs-"));
  try {
    for (const [n, example] of examples.entries()) {
      assert.ok(example.code.includes(options.defaultUrl), `docs/production.md:${example.line}: the example uses the default URL`);
      const code = example.code
        .replaceAll(options.defaultUrl, options.url)
        .replace(/(\bfrom\s+)(["'])(aiots(?:\/[a-z-]+)?)\2/g, (_whole, lead: string, quote: string, name: string) => `${lead}${quote}${urls.get(name)}${quote}`);
      const file = join(dir, `example-${n}.mts`);
      writeFileSync(file, code);
      const { stdout, stderr } = await execFileP(process.execPath, [file], { timeout: 60_000, killSignal: "SIGKILL" });
      assert.equal(stderr.replace(SLOW_CALLBACK_REPORT, ""), "", `docs/production.md:${example.line} wrote to stderr`);
      assert.equal(stdout, example.output, `docs/production.md:${example.line} printed something else than the page shows`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
