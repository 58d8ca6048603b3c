/**
 * Raw Node servers (the baselines). `server-node.ts [hello|static|https]`:
 * - hello: node:http, `GET /` → "Hello, World!";
 * - static: node:http + `fs.createReadStream` of `$AIOTS_BENCH_DIR` + the path (stat for the length);
 * - https: node:https hello with `$AIOTS_BENCH_DIR/server.pem` and `server.key`.
 * Port on the first stdout line; runs until killed.
 */
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

const mode = process.argv[2] ?? "hello";
const dir = process.env.AIOTS_BENCH_DIR ?? "";
const body = "Hello, World!";

function hello(_req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(body));
  res.end(body);
}

function file(req: IncomingMessage, res: ServerResponse): void {
  const path = join(dir, (req.url ?? "/").split("?")[0]!);
  const stat = statSync(path);
  res.setHeader("content-type", "application/octet-stream");
  res.setHeader("content-length", stat.size);
  createReadStream(path).pipe(res);
}

const server =
  mode === "https"
    ? createHttpsServer({ cert: readFileSync(join(dir, "server.pem")), key: readFileSync(join(dir, "server.key")) }, hello)
    : createServer(mode === "static" ? file : hello);
server.listen({ host: "127.0.0.1", port: 0, backlog: 2048 }, () => {
  console.log((server.address() as AddressInfo).port);
});
