// The docs/production.md examples that need a PostgreSQL server (typecheck-only in the docs test) run
// here, as written, against a private server: only the URL is replaced; the output must be the one
// the page shows.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { entrySources, repoRoot } from "../helpers/entries.ts";
import { PgServer } from "../helpers/pg-server.ts";

const execFileP = promisify(execFile);
// As in test/integration/docs.test.ts: under AIOTS_DEBUG=1 a step that loads modules on a loaded
// machine can pass the slow-callback threshold; that report is about the machine, not the example.
const SLOW_CALLBACK_REPORT = /^Executing .* took [\d.]+ seconds\n[\s\S]*?^slowCallback: true\nduration: [\d.e-]+\n/gm;
const MARKER = /^<!-- docs: typecheck-only \(needs a PostgreSQL server; test\/pg\/production-docs\.test\.ts runs this block.*\) -->$/;

interface Example {
  line: number;
  code: string;
  output: string;
}

function pgExamples(): Example[] {
  const lines = readFileSync(join(repoRoot, "docs", "production.md"), "utf8").split("\n");
  const examples: Example[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] !== "```ts" || !MARKER.test(lines[i - 1]!)) continue;
    let end = i + 1;
    while (lines[end] !== "```") end++;
    assert.equal(lines[end + 1], "<!-- docs: output -->", `docs/production.md:${i + 1}: a PostgreSQL example shows its output`);
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

let server: PgServer;
let dir: string;

before(async () => {
  server = await PgServer.start();
  dir = mkdtempSync(join(tmpdir(), "aiots-pg-production-docs-"));
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

void test("docs/production.md: the PostgreSQL examples run as written against a real PostgreSQL", async () => {
  const examples = pgExamples();
  assert.equal(examples.length, 3, "the pool, the cancellation and the LISTEN example");
  const urls = new Map([...entrySources()].map(([name, file]) => [name, pathToFileURL(file).href]));
  for (const [n, example] of examples.entries()) {
    assert.ok(example.code.includes("postgresql://postgres@127.0.0.1:5432/postgres"), `docs/production.md:${example.line}: the example uses the default URL`);
    const code = example.code
      .replaceAll("postgresql://postgres@127.0.0.1:5432/postgres", server.dsn)
      .replace(/(\bfrom\s+)(["'])(aiots(?:\/[a-z-]+)?)\2/g, (_whole, lead: string, quote: string, name: string) => `${lead}${quote}${urls.get(name)}${quote}`);
    const file = join(dir, `example-${n}.mts`);
    writeFileSync(file, code);
    const { stdout, stderr } = await execFileP(process.execPath, [file], { timeout: 60_000, killSignal: "SIGKILL" });
    assert.equal(stderr.replace(SLOW_CALLBACK_REPORT, ""), "", `docs/production.md:${example.line} wrote to stderr`);
    assert.equal(stdout, example.output, `docs/production.md:${example.line} printed something else than the page shows`);
  }
});
