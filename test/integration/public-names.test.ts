// The package's public names, per entry point, are pinned in test/fixtures/public-names.json: a
// name that appears or disappears is a public API change and must be made on purpose (update the
// file in the same commit, and say so in the notes). Values are read from the loaded modules, types
// from TypeScript's view of the entry files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pinned = JSON.parse(readFileSync(`${root}test/fixtures/public-names.json`, "utf8")) as Record<string, { values: string[]; types: string[] }>;
const exportsMap = (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { exports: Record<string, { default: string }> }).exports;

/** The source file of each entry point: the exports map names `./dist/X.js`, built from `src/X.ts`. */
function entries(): Map<string, string> {
  const result = new Map<string, string>();
  for (const [subpath, target] of Object.entries(exportsMap)) {
    const source = target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts");
    result.set(subpath === "." ? "aiots" : `aiots/${subpath.slice(2)}`, `${root}${source}`);
  }
  return result;
}

void test("the exports map has exactly the pinned entry points", () => {
  assert.deepEqual([...entries().keys()].sort(), Object.keys(pinned).sort());
});

void test("each entry point exports the pinned values", async () => {
  for (const [name, file] of entries()) {
    const module = (await import(file)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(module).sort(), pinned[name]!.values, `${name} (${file}): runtime exports changed`);
    for (const key of pinned[name]!.values) assert.notEqual(module[key], undefined, `${name}: ${key} is exported as undefined`);
  }
});

void test("each entry point exports the pinned types", () => {
  const files = [...entries().values()];
  const program = ts.createProgram(files, {
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2024,
    types: ["node"],
    strict: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  for (const [name, file] of entries()) {
    const source = program.getSourceFile(file);
    assert.ok(source, `${file} is not part of the program`);
    const symbol = checker.getSymbolAtLocation(source);
    assert.ok(symbol, `${file} is not a module`);
    const all = checker.getExportsOfModule(symbol).map((s) => s.name);
    const values = new Set(pinned[name]!.values);
    assert.deepEqual(all.filter((n) => !values.has(n)).sort(), pinned[name]!.types, `${name}: type exports changed`);
  }
});
