/**
 * The package as a user meets it: `npm pack` a copy of this checkout (which runs `prepare`, the
 * build), install the tarball into a fresh TypeScript project outside the repository, type-check a
 * consumer of every entry point under `strict` with `skipLibCheck: false`, and run it. Also: the
 * modules with import-time effects are the ones `sideEffects` lists, and `npm run docs` builds.
 *
 * The entry points come from package.json's `exports` map, so the test follows the source layout.
 * Slow (npm pack + npm install, from the npm cache): tens of seconds.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, matchesGlob, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { sourceOfBuilt } from "../helpers/entries.ts";

const repo = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, { types: string; default: string }>;
  sideEffects: boolean | string[];
};

/** The subpaths the consumer below imports; a new entry point must be added to it. */
const SUBPATHS = [".", "./testing", "./http", "./ws", "./redis", "./pg"];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for child npm/node processes: none of the `npm test` run's package variables. */
function childEnv(): NodeJS.ProcessEnv {
  const keep = new Set(["npm_config_cache", "npm_config_registry", "npm_config_userconfig"]);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if ((key.startsWith("npm_") && !keep.has(key)) || key === "INIT_CWD" || key.startsWith("AIOTS_")) continue;
    env[key] = value;
  }
  return env;
}

/** Runs a command to completion (killed after `timeoutMs`) and returns its exit code and output. */
function exec(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

function show(result: Result): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

function* filesUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

const CONSUMER = `\
import { run, createTask, sleep, getRunningLoop, Queue, type Task } from "aiots";
import { VirtualTimeLoop } from "aiots/testing";
import { Application, ClientSession, json, type Request } from "aiots/http";
import { connect, type Message, type WebSocket } from "aiots/ws";
import { RedisQueue, redisChannels, type RedisChannels, type RedisQueueOptions } from "aiots/redis";
import { createPool, InterfaceError, type Pool, type PoolOptions } from "aiots/pg";

const answer: number = await run(async () => {
  const queue = new Queue<number>();
  const producer: Task<void> = createTask(async () => {
    await queue.put(40);
    await queue.put(2);
  });
  await producer;
  return (await queue.get()) + (await queue.get());
});
console.log(\`run \${answer}\`);

const hour: number = await run(async () => {
  await sleep(3600);
  return getRunningLoop().time();
}, { loopFactory: () => new VirtualTimeLoop() });
console.log(\`virtual \${hour}\`);

const replies: string = await run(async () => {
  const app = new Application();
  app.get("/", (_request: Request) => json({ hello: "aiots" }));
  app.websocket("/echo", async (_request: Request, ws: WebSocket) => {
    for await (const message of ws) await ws.send(message);
  });
  await using server = await app.serve({ host: "127.0.0.1", port: 0 });
  const [host, port] = server.sockets[0]!.getsockname() as [string, number];
  await using session = new ClientSession({ baseUrl: \`http://\${host}:\${port}\` });
  const body = await (await session.get("/")).json<{ hello: string }>();
  await using ws = await connect(\`ws://\${host}:\${port}/echo\`);
  await ws.send("ping");
  const echoed: Message = await ws.recv();
  return \`\${body.hello} \${String(echoed)}\`;
});
console.log(\`http+ws \${replies}\`);

// aiots/redis with its optional peer \`redis\` installed; nothing listens on port 1.
const options: RedisQueueOptions = { url: "redis://127.0.0.1:1", connectTimeout: 0.2 };
const redis: string = await run(async () => {
  const app: Application<RedisChannels> = new Application({ channels: redisChannels(options) });
  await using _channels = app.channels;
  await using queue = new RedisQueue<{ n: number }>("consumer", options);
  try {
    await queue.put({ n: 1 });
    return "connected";
  } catch (error) {
    return (error as Error).message.includes("cannot connect to Redis") ? "unreachable" : String(error);
  }
});
console.log(\`redis \${redis}\`);

// aiots/pg with its optional peer \`pg\` installed; nothing listens on port 1.
const pgOptions: PoolOptions = { dsn: "postgresql://postgres@127.0.0.1:1/postgres", minSize: 1, connectTimeout: 1 };
const postgres: string = await run(async () => {
  try {
    const pool: Pool = await createPool(pgOptions);
    await pool.close();
    return "connected";
  } catch (error) {
    return error instanceof InterfaceError && error.message.includes("cannot connect to PostgreSQL") ? "unreachable" : String(error);
  }
});
console.log(\`pg \${postgres}\`);
`;

describe("the packed package in a fresh TypeScript project", { timeout: 600_000 }, () => {
  let base = "";
  let consumer = "";
  let installed = "";
  let packedFiles: string[] = [];

  before(async () => {
    base = mkdtempSync(join(tmpdir(), "aiots-package-"));
    // Pack a copy of the checkout, as a git dependency would be: `prepare` builds dist/ from
    // nothing, and the repository's own dist/ is left alone.
    const checkout = join(base, "checkout");
    const skip = new Set(["node_modules", "dist", ".git", join("docs", "api"), join("bench", "results"), join("bench", ".build")]);
    cpSync(repo, checkout, { recursive: true, filter: (source) => !skip.has(relative(repo, source)) && !source.endsWith(".tsbuildinfo") });
    symlinkSync(join(repo, "node_modules"), join(checkout, "node_modules"), "dir");

    const packed = await exec("npm", ["pack", "--json", "--pack-destination", base], checkout);
    assert.equal(packed.code, 0, show(packed));
    const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as [{ filename: string; files: { path: string }[] }];
    packedFiles = report[0].files.map((file) => file.path);

    consumer = join(base, "consumer");
    mkdirSync(join(consumer, "src"), { recursive: true });
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "aiots-consumer", private: true, type: "module" }, null, 2));
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify(
        {
          compilerOptions: {
            target: "es2024",
            lib: ["es2024", "esnext.disposable"],
            module: "nodenext",
            moduleResolution: "nodenext",
            types: ["node"],
            strict: true,
            skipLibCheck: false,
            rootDir: "src",
            outDir: "out",
          },
          include: ["src"],
        },
        null,
        2,
      ),
    );
    writeFileSync(join(consumer, "src", "consumer.ts"), CONSUMER);
    // The optional peer dependencies `redis` and `pg` are installed too, as users of aiots/redis and aiots/pg would.
    const devDependencies = (pkg as unknown as { devDependencies: Record<string, string> }).devDependencies;
    const redisPeer = `redis@${devDependencies.redis}`;
    const pgPeer = `pg@${devDependencies["pg"]}`;
    const install = await exec("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(base, report[0].filename), redisPeer, pgPeer], consumer);
    assert.equal(install.code, 0, show(install));
    installed = join(consumer, "node_modules", pkg.name);
  });

  after(() => {
    if (base !== "") rmSync(base, { recursive: true, force: true });
  });

  test("the tarball holds every exports target and no sources or tests", () => {
    assert.deepEqual(Object.keys(pkg.exports).sort(), [...SUBPATHS].sort(), "a new entry point: add it to SUBPATHS and CONSUMER");
    for (const target of Object.values(pkg.exports)) {
      for (const file of [target.types, target.default]) assert.ok(packedFiles.includes(file.replace(/^\.\//, "")), `${file} is not in the tarball`);
    }
    assert.ok(packedFiles.includes("bin/aiots.js"));
    assert.deepEqual(packedFiles.filter((file) => /^(src|test|bench|examples)\//.test(file)), []);
  });

  test("a strict consumer with skipLibCheck: false type-checks, and runs", async () => {
    const tsc = await exec(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", consumer], consumer);
    assert.equal(tsc.code, 0, show(tsc));
    const ran = await exec(process.execPath, [join(consumer, "out", "consumer.js")], consumer, 60_000);
    assert.equal(ran.code, 0, show(ran));
    assert.equal(ran.stdout, "run 42\nvirtual 3600\nhttp+ws aiots ping\nredis unreachable\npg unreachable\n", show(ran));
  });

  test("every packed module that acts when imported is listed in sideEffects", () => {
    // Acting at import: a top-level expression or `if` (AIOTS_INSPECT's socket, the CLI's main).
    // Top-level declarations, even `new Map()` or a diagnostics channel, are not effects; nor is
    // assigning a module variable (tsc's `_a = ExceptionGroup` for a class's static `super`).
    const listed = pkg.sideEffects === false ? [] : pkg.sideEffects === true ? ["**"] : pkg.sideEffects;
    const acts = (statement: ts.Statement): boolean =>
      ts.isIfStatement(statement) ||
      (ts.isExpressionStatement(statement) &&
        !(ts.isBinaryExpression(statement.expression) && statement.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(statement.expression.left)));
    const acting: string[] = [];
    for (const path of filesUnder(join(installed, "dist"))) {
      if (!path.endsWith(".js")) continue;
      const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest);
      if (source.statements.some(acts)) {
        acting.push(`./${relative(installed, path).split(sep).join("/")}`);
      }
    }
    assert.ok(acting.some((file) => readFileSync(join(installed, file), "utf8").includes("AIOTS_INSPECT")), `no module reads AIOTS_INSPECT: ${acting.join(", ")}`);
    for (const file of acting) assert.ok(listed.some((glob) => matchesGlob(file, glob)), `${file} acts when imported but is not in sideEffects (${listed.join(", ")})`);
  });
});

test("npm run docs (TypeDoc) builds the API reference of every entry point", { timeout: 180_000 }, async () => {
  const config = JSON.parse(readFileSync(join(repo, "typedoc.json"), "utf8")) as { entryPoints: string[] };
  const fromExports = Object.values(pkg.exports).map((target) => sourceOfBuilt(target.default));
  assert.deepEqual([...config.entryPoints].sort(), fromExports.sort(), "typedoc.json's entryPoints are not the sources of the exports map");
  const out = mkdtempSync(join(tmpdir(), "aiots-docs-"));
  try {
    const typedoc = await exec(process.execPath, [join(repo, "node_modules", "typedoc", "bin", "typedoc"), "--out", out], repo, 150_000);
    assert.equal(typedoc.code, 0, show(typedoc));
    // Warnings too: a public signature that names an unexported type leaves users a dead link.
    // (TypeDoc prints a "Found N errors and M warnings" summary only when there is one.)
    assert.doesNotMatch(typedoc.stdout + typedoc.stderr, /\[(warning|error)\]|Found [1-9]\d* (errors|warnings)|and [1-9]\d* warnings/, show(typedoc));
    assert.ok(existsSync(join(out, "index.html")), show(typedoc));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
