/**
 * Peers for the client tests: plain node:http / node:https servers that count connections, and
 * certificates made with the openssl CLI (a CA, a server certificate for 127.0.0.1/localhost, a
 * client certificate), so TLS is tested against a real handshake without touching system trust.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A handler of the test servers; `body` is the whole request body. */
export type PeerHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** Connection counters of a test server. */
export interface PeerStats {
  open: number;
  maxOpen: number;
  total: number;
}

/** A running test server. */
export interface Peer {
  url: string;
  port: number;
  stats: PeerStats;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 (HTTPS with `tls`), counting connections. */
export async function peer(handler: PeerHandler, tls?: HttpsOptions): Promise<Peer> {
  const stats: PeerStats = { open: 0, maxOpen: 0, total: 0 };
  const sockets = new Set<Socket>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks)));
  };
  const server = tls === undefined ? createHttpServer({ keepAliveTimeout: 30_000 }, onRequest) : createHttpsServer({ keepAliveTimeout: 30_000, ...tls }, onRequest);
  server.on(tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
    sockets.add(socket);
    stats.total++;
    stats.maxOpen = Math.max(stats.maxOpen, ++stats.open);
    socket.on("close", () => {
      sockets.delete(socket);
      stats.open--;
    });
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** PEM material for the TLS tests. */
export interface TestCerts {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing here (verification against it fails). */
  otherCa: string;
}

let cached: TestCerts | null = null;

/** A CA, a server certificate (SAN 127.0.0.1, localhost) and a client certificate, made once per process. */
export function testCerts(): TestCerts {
  if (cached !== null) return cached;
  const dir = mkdtempSync(join(tmpdir(), "aiots-client-tls-"));
  const ssl = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  };
  try {
    for (const name of ["ca", "other-ca"]) {
      ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=aiots test ${name}`, "-keyout", `${name}.key`, "-out", `${name}.pem`);
    }
    writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
    for (const name of ["server", "client"]) {
      ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=aiots test ${name}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
      ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.pem`);
    }
    const read = (file: string): string => readFileSync(join(dir, file), "utf8");
    cached = {
      ca: read("ca.pem"),
      serverCert: read("server.pem"),
      serverKey: read("server.key"),
      clientCert: read("client.pem"),
      clientKey: read("client.key"),
      otherCa: read("other-ca.pem"),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the echo handler answers: the request as the server saw it. */
export interface Echoed {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Answers with the request's method, URL, headers and body as JSON. */
export const echo: PeerHandler = (req, res, body) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString() }));
};
