/**
 * Every ```ts block of README.md and docs/*.md is type-checked, and run unless the line before its
 * fence says `<!-- docs: typecheck-only (reason) -->`. A run must exit with 0 and write nothing to
 * stderr (so under AIOTS_DEBUG=1 an example that leaves a server or task behind fails), unless the
 * line before the fence says `<!-- docs: stderr (reason) -->`. A block whose fence is followed by
 * `<!-- docs: output -->` and a ```text block must print exactly that text. So an example in the
 * docs cannot rot: it compiles against today's API and does what the page says.
 *
 * Blocks import "aiots", "aiots/http", ... as users do; they are rewritten to file URLs of the source
 * entry files, found through package.json's exports map, so the test follows the layout of src/.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { entrySources } from "../helpers/entries.ts";

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
// A dot folder: the wildcards of tsconfig.json's "test" include skip it, so `npm run typecheck` never sees the blocks.
const scratch = join(root, "test", ".docs-build");
const RUN_TIMEOUT_MS = 30_000;
const CONCURRENCY = 2;

interface Block {
  page: string;
  /** 1-based line in the page of the block's first code line. */
  line: number;
  code: string;
  typecheckOnly: boolean;
  /** The example writes to stderr on purpose (it demonstrates a report). */
  stderrExpected: boolean;
  /** The stdout the page shows for the block, if it shows one. */
  output: string | null;
  file: string;
}

function pages(): string[] {
  // Only docs/*.md: docs/api/ is TypeDoc's generated output.
  const docs = readdirSync(join(root, "docs"), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", ...docs];
}

const MARKER_TYPECHECK_ONLY = /^<!-- docs: typecheck-only \(.+\) -->$/;
const MARKER_STDERR = /^<!-- docs: stderr \(.+\) -->$/;
const MARKER_OUTPUT = "<!-- docs: output -->";

function extractBlocks(page: string): Block[] {
  const lines = readFileSync(join(root, page), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```ts") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    assert.ok(end < lines.length, `${page}:${start}: unclosed \`\`\`ts block`);
    const before = lines[i - 1]?.trim() ?? "";
    const known = MARKER_TYPECHECK_ONLY.test(before) || MARKER_STDERR.test(before);
    assert.ok(!before.startsWith("<!-- docs:") || known, `${page}:${i}: unknown marker ${before} (a reason in parentheses is required)`);
    let output: string | null = null;
    let next = end + 1;
    while (lines[next] === "") next++;
    if (lines[next] === MARKER_OUTPUT) {
      assert.equal(lines[next + 1], "```text", `${page}:${next + 1}: ${MARKER_OUTPUT} must be followed by a \`\`\`text block`);
      let close = next + 2;
      while (close < lines.length && lines[close] !== "```") close++;
      output = lines.slice(next + 2, close).map((l) => `${l}\n`).join("");
    }
    const n = blocks.length + 1;
    blocks.push({
      page,
      line: start + 1,
      code: lines.slice(start, end).join("\n") + "\n",
      typecheckOnly: MARKER_TYPECHECK_ONLY.test(before),
      stderrExpected: MARKER_STDERR.test(before),
      output,
      file: join(scratch, `${page.replace(/\.md$/, "").replaceAll("/", "-")}-${n}.mts`),
    });
    i = end;
  }
  return blocks;
}

/** Rewrites the package's specifiers to file URLs; line numbers stay those of the page. */
function rewriteImports(code: string, urls: Map<string, string>): string {
  return code.replace(/(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(["'])(aiots(?:\/[a-z-]+)?)\2/g, (whole, lead: string, quote: string, name: string) => {
    const url = urls.get(name);
    if (url === undefined) throw new Error(`an example imports "${name}", which package.json does not export`);
    return `${lead}${quote}${url}${quote}`;
  });
}

interface TypeErrorAt {
  file: string;
  line: number;
  text: string;
}

/** One tsc run over every block, with the project's compiler options. */
async function typecheck(blocks: Block[], urls: Map<string, string>, entries: Map<string, string>): Promise<TypeErrorAt[]> {
  // tsc cannot resolve file: URLs, so each URL is mapped back to its file.
  const paths = Object.fromEntries([...entries].map(([name, file]) => [urls.get(name)!, [relative(scratch, file)]]));
  const config = {
    extends: relative(scratch, join(root, "tsconfig.json")),
    compilerOptions: { noEmit: true, paths },
    files: blocks.map((b) => relative(scratch, b.file)),
  };
  const configFile = join(scratch, "tsconfig.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const result = await execFileP(process.execPath, [tsc, "-p", configFile, "--pretty", "false"], { cwd: root, maxBuffer: 16 << 20 }).then(
    () => "",
    (error: { stdout?: string; stderr?: string; message: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}` || error.message,
  );
  const errors: TypeErrorAt[] = [];
  for (const raw of result.split("\n")) {
    const match = /^(.+?)\((\d+),\d+\): (error .*)$/.exec(raw);
    if (match) errors.push({ file: join(root, match[1]!), line: Number(match[2]), text: match[3]! });
    else if (raw.startsWith("error")) errors.push({ file: "", line: 0, text: raw }); // a config error: every page fails
  }
  return errors;
}

// Under AIOTS_DEBUG=1 a first step that loads a module (undici, acorn) can pass the 0.1 s slow-callback
// threshold on a loaded machine. That report is about the machine, not the example, so it is dropped;
// every other report (an unclosed server, a task never awaited) still fails the example.
const SLOW_CALLBACK_REPORT = /^Executing .* took [\d.]+ seconds\n[\s\S]*?^slowCallback: true\nduration: [\d.e-]+\n/gm;

async function runBlock(block: Block): Promise<void> {
  const where = `${block.page}:${block.line}`;
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [block.file], { cwd: scratch, timeout: RUN_TIMEOUT_MS, killSignal: "SIGKILL" });
    if (!block.stderrExpected) assert.equal(stderr.replace(SLOW_CALLBACK_REPORT, ""), "", `${where}: the example wrote to stderr`);
    if (block.output !== null) assert.equal(stdout, block.output, `${where}: the example printed something other than the output the page shows`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    const { code, signal, stderr } = error as { code?: number; signal?: string; stderr?: string };
    const why = signal ? `was killed (${signal}; the limit is ${RUN_TIMEOUT_MS / 1000} s)` : `exited with ${code}`;
    assert.fail(`${where}: the example ${why}\n${stderr ?? ""}`);
  }
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item).catch((e: unknown) => failures.push(e));
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) assert.fail(failures.map((e) => (e instanceof Error ? e.message : String(e))).join("\n\n"));
}

rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
after(() => rmSync(scratch, { recursive: true, force: true }));

const entries = entrySources();
const urls = new Map([...entries].map(([name, file]) => [name, pathToFileURL(file).href]));
const byPage = new Map(pages().map((page) => [page, extractBlocks(page)]));
const allBlocks = [...byPage.values()].flat();
for (const block of allBlocks) writeFileSync(block.file, rewriteImports(block.code, urls));
const typeErrors = typecheck(allBlocks, urls, entries);

for (const [page, blocks] of byPage) {
  void test(`${page}: every ts example type-checks and runs`, async () => {
    const errors = (await typeErrors).filter((e) => e.file === "" || blocks.some((b) => b.file === e.file));
    const located = errors.map((e) => {
      const block = blocks.find((b) => b.file === e.file);
      return block ? `${page}:${block.line + e.line - 1}: ${e.text}` : e.text;
    });
    assert.deepEqual(located, [], `type errors in ${page}`);
    await eachLimited(blocks.filter((b) => !b.typecheckOnly), CONCURRENCY, runBlock);
  });
}
