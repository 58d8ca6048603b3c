// The layer rule of src/ (docs/architecture.md), checked by `npm run lint`.
//
// Layers, each importing only those below it:
//   core  <-  sync, net, ws  <-  proc (net)  <-  loop  <-  dev  <-  http (net, ws)  <-  cli
//   redis (core, sync, ws): aiots/redis, beside http
//   pg (core, sync): aiots/pg, beside http
// A file imports its own layer's files freely, and another layer only through that layer's
// index.ts (its surface). The entry files src/*.ts (the package's exports) pick public names from
// any layer; only the CLI, which is a program using the package, imports them.
/** Layers and the layers each may import. */
const layers = {
  core: [],
  sync: ["core"],
  net: ["core"],
  ws: ["core"],
  proc: ["core", "net"],
  loop: ["core", "net", "proc"],
  dev: ["core", "loop"],
  http: ["core", "net", "ws"],
  redis: ["core", "sync", "ws"],
  pg: ["core", "sync"],
  cli: ["core", "dev"],
};

const layerRules = Object.entries(layers).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only ${allowed.length ? allowed.map((l) => `src/${l}/`).join(", ") : "nothing else of aiots"}`,
  severity: "error",
  from: { path: `^src/${layer}/` },
  to: { path: "^src/[^/]+/", pathNot: [`^src/(${[layer, ...allowed].join("|")})/`] },
}));

const known = Object.keys(layers).join("|");

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "every-folder-is-a-layer",
      comment: "a new folder under src/ (redis/, pg/, ...) gets a row in the layers table above first",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^src/[^/]+/", pathNot: [`^src/(${known})/`] },
    },
    {
      name: "every-folder-is-a-layer-too",
      comment: "a module in a folder missing from the layers table imports nothing until it gets its row",
      severity: "error",
      from: { path: "^src/[^/]+/", pathNot: [`^src/(${known})/`] },
      to: { path: "^src/" },
    },
    {
      name: "through-the-surface",
      comment: "another layer is imported through its index.ts, never file by file",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { path: "^src/[^/]+/", pathNot: ["^src/$1/", "^src/[^/]+/index\\.ts$"] },
    },
    {
      name: "entries-are-the-top",
      comment: "the entry files (src/*.ts) are imported by users and the CLI, never by a layer",
      severity: "error",
      from: { path: "^src/(?!cli/)[^/]+/" },
      to: { path: "^src/[^/]+\\.ts$" },
    },
    {
      name: "no-runtime-cycles",
      comment: "no module depends on itself at run time (type-only cycles inside one layer are allowed)",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-type-cycles-across-layers",
      comment: "a type-only cycle stays inside one layer",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { circular: true, viaSomeNot: "^src/$1/" },
    },
    {
      name: "shipped-code-uses-shipped-packages",
      comment: "src/ must not import devDependencies (they are not installed for users); the exceptions are the optional peer dependencies redis, from src/redis/, and pg, from src/pg/ (also devDependencies, for the tests)",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(redis|pg)/" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "src-redis-uses-only-its-peer",
      comment: "src/redis/ may import the optional peer redis, and no other devDependency",
      severity: "error",
      from: { path: "^src/redis/" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"], pathNot: "^node_modules/(redis|@redis/[^/]+)/" },
    },
    {
      name: "src-pg-uses-only-its-peer",
      comment: "src/pg/ may import the optional peer pg, and no other devDependency",
      severity: "error",
      from: { path: "^src/pg/" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"], pathNot: "^node_modules/pg/" },
    },
    {
      name: "optional-peers-stay-in-their-layer",
      comment: "the optional peer redis is imported only by src/redis/ (users who never import aiots/redis need not install it)",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/redis/" },
      to: { path: "^node_modules/(redis|@redis/[^/]+)/" },
    },
    {
      name: "optional-peer-pg-stays-in-its-layer",
      comment: "the optional peer pg is imported only by src/pg/ (users who never import aiots/pg need not install it)",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/pg/" },
      to: { path: "^node_modules/(pg|pg-[^/]+|@types/pg)/" },
    },
    {
      name: "src-stays-in-src",
      comment: "shipped code never imports tests, benchmarks or examples",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench|examples)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
