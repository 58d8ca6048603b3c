/**
 * A TLS echo server and client with streams. The server's certificate is self-signed, made with the
 * openssl CLI unless AIOTS_TLS_CERT / AIOTS_TLS_KEY name PEM files; the client trusts exactly it.
 * Run: node examples/tls-echo.ts
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, startServer, openConnection } from "../src/index.ts";

function certificate(): { key: string; cert: string } {
  const certFile = process.env["AIOTS_TLS_CERT"];
  const keyFile = process.env["AIOTS_TLS_KEY"];
  if (certFile && keyFile) return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  const dir = mkdtempSync(join(tmpdir(), "aiots-tls-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await run(async () => {
  const { key, cert } = certificate();
  await using server = await startServer(async (reader, writer) => {
    const line = await reader.readLine();
    console.log(`Server received ${JSON.stringify(line.toString())} over ${writer.getExtraInfo("cipher")?.version}`);
    writer.write(line);
    await writer.drain();
    writer.close();
    await writer.waitClosed();
  }, "127.0.0.1", 0, { ssl: { key, cert } });
  const [host, port] = server.sockets[0]!.getsockname() as [string, number];
  const [reader, writer] = await openConnection(host, port, { ssl: { ca: cert }, serverHostname: "localhost" });
  console.log(`Peer certificate: CN=${writer.getExtraInfo("peercert")?.subject.CN}`);
  writer.write(Buffer.from("Hello over TLS!\n"));
  await writer.drain();
  console.log(`Client received ${JSON.stringify((await reader.readLine()).toString())}`);
  writer.close();
  await writer.waitClosed();
});
