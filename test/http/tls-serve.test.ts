/** HTTPS serving: `app.serve({ ssl })` with certificates made by the openssl CLI, checked with curl and Python's aiohttp. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { run } from "../../src/index.ts";
import { Application, json } from "../../src/http.ts";

interface Certs {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

/** A CA and a server certificate for 127.0.0.1/localhost, made with the openssl CLI. */
function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), "aiots-tls-"));
  const p = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync("openssl", args, { stdio: "pipe" });
  };
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=aiots test CA");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=localhost");
  writeFileSync(p("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
  openssl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile", p("ext.cnf"));
  return { dir, ca: p("ca.pem"), cert: readFileSync(p("server.pem"), "utf8"), key: readFileSync(p("server.key"), "utf8") };
}

function exec(file: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { encoding: "utf8", timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

const PY_CLIENT = `
import asyncio, ssl, sys, aiohttp
async def main():
    ctx = ssl.create_default_context(cafile=sys.argv[1])
    async with aiohttp.ClientSession() as s:
        async with s.get(sys.argv[2], ssl=ctx) as r:
            print(r.status, (await r.json())["scheme"])
asyncio.run(main())
`;

void test("HTTPS with cert+key options and with a SecureContext, verified by curl and Python's aiohttp", async () => {
  const certs = makeCerts();
  try {
    await run(async () => {
      const app = new Application();
      app.get("/", (request) => json({ scheme: (request.raw.socket as { encrypted?: boolean }).encrypted === true ? "https" : "http" }));
      for (const ssl of [{ cert: certs.cert, key: certs.key }, createSecureContext({ cert: certs.cert, key: certs.key })]) {
        await using server = await app.serve({ host: "127.0.0.1", port: 0, ssl });
        const [, port] = server.sockets[0]!.getsockname() as [string, number];
        const url = `https://127.0.0.1:${port}/`;
        const viaCurl = await exec("curl", ["-sS", "--cacert", certs.ca, url]);
        assert.equal(viaCurl.code, 0, `${ssl.constructor.name}: ${viaCurl.stderr}`);
        assert.deepEqual(JSON.parse(viaCurl.stdout), { scheme: "https" });
        const untrusted = await exec("curl", ["-sS", url]);
        assert.notEqual(untrusted.code, 0, "a client without the CA refuses the certificate");
        const viaPython = await exec("/usr/bin/python3", ["-c", PY_CLIENT, certs.ca, url]);
        assert.equal(viaPython.code, 0, viaPython.stderr);
        assert.equal(viaPython.stdout.trim(), "200 https");
        // Plain HTTP to the TLS port gets nowhere, and the server goes on serving.
        const plain = await exec("curl", ["-sS", "--max-time", "5", `http://127.0.0.1:${port}/`]);
        assert.notEqual(plain.code, 0);
        assert.equal((await exec("curl", ["-sS", "--cacert", certs.ca, url])).code, 0);
      }
    });
  } finally {
    rmSync(certs.dir, { recursive: true, force: true });
  }
});

void test("a server ssl without cert and key is a clear TypeError", async () => {
  await run(async () => {
    const app = new Application();
    for (const bad of [true, false, {}, { cert: "x" }, null]) {
      await assert.rejects(app.serve({ port: 0, ssl: bad as never }), /a server's ssl is a tls\.SecureContext or TLS options with cert and key/);
    }
  });
});
