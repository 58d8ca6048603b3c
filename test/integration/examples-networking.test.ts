/** Runs each networking example as its own process and checks its transcript. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { selfSignedCert, tempDir } from "../helpers/net.ts";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));

function runExample(name: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(examples, name)], { timeout: 20_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

void test("tcp-echo-protocol: the client's message comes back and the server closes", async () => {
  const out = await runExample("tcp-echo-protocol.ts");
  assert.match(out, /Data sent: "Hello World!"/);
  assert.match(out, /Data received: "Hello World!"[\s\S]*Data received: "Hello World!"/);
  assert.match(out, /The server closed the connection/);
});

void test("tcp-echo-streams: round trip over streams", async () => {
  const out = await runExample("tcp-echo-streams.ts");
  assert.match(out, /Received "Hello World!" from \["127\.0\.0\.1",\d+\]/);
  assert.match(out, /Received: "Hello World!"/);
});

void test("udp-echo: one datagram each way, then the client closes", async () => {
  const out = await runExample("udp-echo.ts");
  assert.match(out, /Received: "Hello World!"/);
  assert.match(out, /Connection closed/);
});

void test("http-get-streams: the local server's headers, line by line", async () => {
  const out = await runExample("http-get-streams.ts");
  assert.match(out, /HTTP header> HTTP\/1\.1 200 OK/);
  assert.match(out, /HTTP header> X-Example: aiots/);
});

void test("tls-echo: a self-signed certificate generated now, trusted by the client", async () => {
  const dir = tempDir();
  try {
    const { key, cert } = selfSignedCert();
    writeFileSync(join(dir, "key.pem"), key);
    writeFileSync(join(dir, "cert.pem"), cert);
    const out = await runExample("tls-echo.ts", { AIOTS_TLS_CERT: join(dir, "cert.pem"), AIOTS_TLS_KEY: join(dir, "key.pem") });
    assert.match(out, /Peer certificate: CN=localhost/);
    assert.match(out, /Server received "Hello over TLS!\\n" over TLSv1\.[23]/);
    assert.match(out, /Client received "Hello over TLS!\\n"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
