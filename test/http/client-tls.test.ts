/**
 * The client's `ssl` option against a real local HTTPS server (node:https) whose certificates are
 * made in the test by the openssl CLI: verification with a custom CA, verification off, a
 * SecureContext, client certificates, and the errors of each failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSecureContext, type TLSSocket } from "node:tls";
import { gather, run } from "../../src/index.ts";
import { ClientConnectionError, ClientError, ClientSSLError, ClientSession } from "../../src/http.ts";
import { rejection } from "../helpers/index.ts";
import { otherTasks } from "../helpers/http.ts";
import { peer, testCerts } from "./client-helpers.ts";

void test("ssl: a certificate that fails verification is a ClientSSLError naming method and URL; ca, false and a SecureContext work", async () => {
  const certs = testCerts();
  const server = await peer((req, res) => res.end(`secure ${req.url}`), { key: certs.serverKey, cert: certs.serverCert });
  try {
    await run(async () => {
      await using session = new ClientSession();
      const error = await rejection(session.get(`${server.url}/x`));
      assert.ok(error instanceof ClientSSLError, String(error));
      assert.ok(error instanceof ClientConnectionError && error instanceof ClientError);
      assert.equal(error.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
      assert.match(error.message, new RegExp(`^GET ${server.url}/x failed TLS: .*pass the issuing CA as ssl: \\{ ca \\}`));

      // Per request, the request's ssl wins over the session's default.
      assert.equal(await (await session.get(`${server.url}/ca`, { ssl: { ca: certs.ca } })).text(), "secure /ca");
      assert.equal(await (await session.get(`${server.url}/off`, { ssl: false })).text(), "secure /off");
      const context = createSecureContext({ ca: certs.ca });
      assert.equal(await (await session.get(`${server.url}/ctx`, { ssl: context })).text(), "secure /ctx");

      const other = await rejection(session.get(`${server.url}/other`, { ssl: { ca: certs.otherCa } }));
      assert.ok(other instanceof ClientSSLError, String(other));
      const wrongName = await rejection(session.get(`${server.url}/name`, { ssl: { ca: certs.ca, servername: "wrong.example" } }));
      assert.ok(wrongName instanceof ClientSSLError, String(wrongName));
      assert.equal(wrongName.code, "ERR_TLS_CERT_ALTNAME_INVALID");
      assert.match(wrongName.message, /GET https:\/\/127\.0\.0\.1:\d+\/name failed TLS: .*does not name this host/);
      const garbage = await rejection(session.get(`${server.url}/bad-ca`, { ssl: { ca: "not a certificate" } }));
      assert.ok(garbage instanceof ClientSSLError, String(garbage));
      assert.match(garbage.message, /GET https:\/\/127\.0\.0\.1:\d+\/bad-ca failed TLS/);
      assert.equal(otherTasks(), 0);
    });
  } finally {
    await server.close();
  }
});

void test("ssl on the session: the talk's gather demo works against https:// with the CA passed in, without NODE_EXTRA_CA_CERTS", async () => {
  // The CA is made in this test, so no process-wide setting can hold it: only `ssl` brings it in.
  const certs = testCerts();
  const server = await peer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ id: Number(req.url!.split("/").pop()) }));
  }, { key: certs.serverKey, cert: certs.serverCert });
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url, ssl: { ca: certs.ca }, timeout: { total: 10 } });
      const items = await gather(...Array.from({ length: 10 }, async (_, i) => (await session.get(`/items/${i + 1}`)).json<{ id: number }>()));
      assert.deepEqual(items.map((item) => item.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // Ten at once opened ten connections; ten more one after another reuse them.
      const opened = server.stats.total;
      for (let i = 0; i < 10; i++) await (await session.get(`/items/${i}`)).bytes();
      assert.equal(server.stats.total, opened, "sequential HTTPS requests reuse the kept-alive connections");
    });
  } finally {
    await server.close();
  }
});

void test("ssl: client certificates ({ cert, key }) for a server that requires one; settings never share a connection", async () => {
  const certs = testCerts();
  const server = await peer(
    (req, res) => {
      const peerCert = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`hello ${peerCert.subject?.CN ?? "nobody"}`);
    },
    { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
  );
  try {
    await run(async () => {
      await using session = new ClientSession({ baseUrl: server.url, ssl: { ca: certs.ca } });
      const refused = await rejection((async () => (await session.get("/")).text())());
      assert.ok(refused instanceof ClientConnectionError, `without a client certificate: ${String(refused)}`);
      assert.match(refused.message, /GET https:\/\/127\.0\.0\.1:\d+\//);
      const withCert = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
      assert.equal(await (await session.get("/", { ssl: withCert })).text(), "hello aiots test client");
      const before = server.stats.total;
      // An equal options object (a new literal each time) reuses the connection made with it...
      for (let i = 0; i < 3; i++) await (await session.get("/", { ssl: { ...withCert } })).text();
      assert.equal(server.stats.total, before);
      // ...and a connection made without the certificate is never used for a request that has one.
      assert.ok((await rejection((async () => (await session.get("/")).text())())) instanceof ClientConnectionError);
    });
  } finally {
    await server.close();
  }
});

void test("ssl: bad values are refused with what to pass instead", () => {
  assert.throws(() => new ClientSession({ ssl: "yes" as never }), /ssl takes true \(verify\), false \(no verification\), a tls.SecureContext/);
  assert.throws(() => new ClientSession({ ssl: { ca: "x", verify: false } as never }), /unknown ssl option verify: ssl takes ca, cert, key/);
});
