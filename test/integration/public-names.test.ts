// The package's public names, per entry point, are pinned in test/fixtures/public-names.json: a
// name that appears or disappears is a public API change and must be made on purpose (update the
// file in the same commit, and say so in the notes). Values are read from the loaded modules, types
// from TypeScript's view of the entry files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import ts from "typescript";
import { entrySources, repoRoot } from "../helpers/entries.ts";

const pinned = JSON.parse(readFileSync(`${repoRoot}test/fixtures/public-names.json`, "utf8")) as Record<string, { values: string[]; types: string[] }>;

void test("the exports map has exactly the pinned entry points", () => {
  assert.deepEqual([...entrySources().keys()].sort(), Object.keys(pinned).sort());
});

void test("each entry point exports the pinned values", async () => {
  for (const [name, file] of entrySources()) {
    const module = (await import(file)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(module).sort(), pinned[name]!.values, `${name} (${file}): runtime exports changed`);
    for (const key of pinned[name]!.values) assert.notEqual(module[key], undefined, `${name}: ${key} is exported as undefined`);
  }
});

void test("each entry point exports the pinned types", () => {
  const files = [...entrySources().values()];
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
  for (const [name, file] of entrySources()) {
    const source = program.getSourceFile(file);
    assert.ok(source, `${file} is not part of the program`);
    const symbol = checker.getSymbolAtLocation(source);
    assert.ok(symbol, `${file} is not a module`);
    const all = checker.getExportsOfModule(symbol).map((s) => s.name);
    const values = new Set(pinned[name]!.values);
    assert.deepEqual(all.filter((n) => !values.has(n)).sort(), pinned[name]!.types, `${name}: type exports changed`);
  }
});
