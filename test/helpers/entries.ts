// The package's entry points and the source file behind each, read from package.json's exports
// map (`./dist/X.js` is built from `src/X.ts`), so tests follow the layout of src/.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The repository's root folder, with a trailing slash. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The source file (`src/X.ts`, relative to the root) that the built file `./dist/X.js` comes from. */
export function sourceOfBuilt(built: string): string {
  return built.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts");
}

/** Maps each import specifier ("aiots", "aiots/http", ...) to its entry's absolute source path. */
export function entrySources(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8")) as { name: string; exports: Record<string, { default: string }> };
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    entries.set(subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, `${repoRoot}${sourceOfBuilt(target.default)}`);
  }
  return entries;
}
