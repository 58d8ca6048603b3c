/** Helpers for the networking tests: addresses, a self-signed certificate, temp socket paths. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "../../src/index.ts";

/** The `[host, port]` a server listens on. */
export function addressOf(server: Server): [string, number] {
  return server.sockets[0]!.getsockname() as [string, number];
}

/** A fresh directory for Unix socket paths; remove it with `rmSync(dir, { recursive: true })`. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "aiots-net-"));
}

let cached: { key: string; cert: string } | null = null;

/** A self-signed certificate for `localhost` / 127.0.0.1, made once per process with the openssl CLI. */
export function selfSignedCert(): { key: string; cert: string } {
  if (cached !== null) return cached;
  const dir = tempDir();
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    cached = { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
