import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  run,
  sleep,
  createTask,
  getRunningLoop,
  Protocol,
  BufferedProtocol,
  SendfileNotAvailableError,
  CancelledError,
  Server,
  type Transport,
  type AbstractEventLoop,
  type BaseTransport,
  type ReadTransport,
} from "../../src/index.ts";
import { spawn } from "node:child_process";
import { addressOf, selfSignedCert, tempDir } from "../helpers/net.ts";

/** Records every callback, in order. */
class Recorder extends Protocol {
  events: string[] = [];
  transport: Transport | null = null;
  data = Buffer.alloc(0);
  keepOpen = false;
  readonly lost = getRunningLoop().createFuture<Error | null>();
  override connectionMade(t: Transport): void {
    this.transport = t;
    this.events.push("made");
  }
  override dataReceived(d: Buffer): void {
    if (this.events.at(-1) !== "data") this.events.push("data");
    this.data = Buffer.concat([this.data, d]);
  }
  override eofReceived(): boolean {
    this.events.push("eof");
    return this.keepOpen;
  }
  override connectionLost(exc: Error | null): void {
    this.events.push(exc === null ? "lost" : `lost:${exc.message}`);
    this.lost.setResult(exc);
  }
  override pauseWriting(): void {
    this.events.push("pause");
  }
  override resumeWriting(): void {
    this.events.push("resume");
  }
}

/** A server whose accepted connections are recorded, and one client connected to it (accepted). */
async function recordedPair(loop: AbstractEventLoop): Promise<{ server: Server; accepted: Recorder[]; t: Transport; client: Recorder }> {
  const accepted: Recorder[] = [];
  const server = await loop.createServer(() => {
    const p = new Recorder();
    accepted.push(p);
    return p;
  }, "127.0.0.1", 0);
  const [t, client] = await loop.createConnection(() => new Recorder(), ...addressOf(server));
  while (accepted.length === 0) await sleep(0.001);
  return { server, accepted, t, client };
}

class Echo extends Protocol {
  t!: Transport;
  override connectionMade(t: Transport): void {
    this.t = t;
  }
  override dataReceived(d: Buffer): void {
    this.t.write(d);
  }
}

void test("createConnection/createServer: callback order made → data → eof → lost, on both sides", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const serverSide: Recorder[] = [];
    const server = await loop.createServer(() => {
      const p = new Recorder();
      p.keepOpen = true; // half-close: still able to answer after the client's EOF
      serverSide.push(p);
      return p;
    }, "127.0.0.1", 0);
    assert.ok(server instanceof Server);
    const [transport, client] = await loop.createConnection(() => new Recorder(), ...addressOf(server));
    assert.equal(client.transport, transport);
    transport.write(Buffer.from("ping"));
    transport.writeEof();
    while (serverSide[0]?.events.at(-1) !== "eof") await sleep(0.002);
    serverSide[0].transport!.write(Buffer.from("pong"));
    serverSide[0].transport!.close();
    assert.equal(await client.lost, null);
    assert.equal(await serverSide[0].lost, null);
    assert.deepEqual(client.events, ["made", "data", "eof", "lost"]);
    assert.equal(client.data.toString(), "pong");
    assert.deepEqual(serverSide[0].events, ["made", "data", "eof", "lost"]);
    assert.equal(serverSide[0].data.toString(), "ping");
    server.close();
    await server.waitClosed();
  });
});

void test("eofReceived returning falsy closes the transport", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const received: Recorder[] = [];
    await using server = await loop.createServer(() => {
      const p = new Recorder();
      received.push(p);
      return p;
    }, "127.0.0.1", 0);
    const [t, client] = await loop.createConnection(() => new Recorder(), ...addressOf(server));
    t.writeEof();
    await client.lost;
    await received[0]!.lost;
    assert.deepEqual(received[0]!.events, ["made", "eof", "lost"]);
    assert.deepEqual(client.events, ["made", "eof", "lost"]);
  });
});

void test("BufferedProtocol receives into its own buffer", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    await using server = await loop.createServer(() => new Echo(), "127.0.0.1", 0);
    class Into extends BufferedProtocol {
      buf = Buffer.alloc(7); // small: a chunk fills it several times
      got: Buffer[] = [];
      hints: number[] = [];
      done = loop.createFuture<void>();
      override getBuffer(sizeHint: number): Uint8Array {
        this.hints.push(sizeHint);
        return this.buf;
      }
      override bufferUpdated(n: number): void {
        this.got.push(Buffer.from(this.buf.subarray(0, n)));
        if (Buffer.concat(this.got).length === 100) this.done.setResult(undefined);
      }
    }
    const [t, p] = await loop.createConnection(() => new Into(), ...addressOf(server));
    const payload = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    t.write(payload);
    await p.done;
    assert.ok(Buffer.concat(p.got).equals(payload));
    assert.ok(p.got.every((g) => g.length <= 7));
    assert.ok(p.hints.every((h) => h > 0));
    t.close();
  });
});

void test("pauseWriting/resumeWriting follow the water marks; pauseReading stops dataReceived", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const pair = await recordedPair(loop);
    await using _server = pair.server;
    const { accepted, t, client } = pair;
    const peer = accepted[0]!;
    peer.transport!.pauseReading();
    assert.equal(peer.transport!.isReading(), false);
    t.setWriteBufferLimits(4096, 1024);
    assert.deepEqual(t.getWriteBufferLimits(), [1024, 4096]);
    // Fill the kernel buffers until the transport's own buffer goes over the high mark.
    for (let i = 0; i < 2000 && !client.events.includes("pause"); i++) t.write(Buffer.alloc(64 * 1024));
    assert.ok(client.events.includes("pause"), "pauseWriting was called");
    assert.ok(t.getWriteBufferSize() > 4096);
    const before = peer.data.length;
    await sleep(0.02);
    assert.equal(peer.data.length, before, "no dataReceived while reading is paused");
    peer.transport!.resumeReading();
    while (!client.events.includes("resume")) await sleep(0.002);
    assert.ok(t.getWriteBufferSize() <= 1024);
    assert.deepEqual(client.events, ["made", "pause", "resume"]);
    assert.throws(() => t.setWriteBufferLimits(1, 2), RangeError);
    t.abort();
    await client.lost;
    await peer.lost;
  });
});

void test("extra info: peername, sockname, socket; unknown names give the default", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    await using server = await loop.createServer(() => new Echo(), "127.0.0.1", 0);
    const [host, port] = addressOf(server);
    const [t] = await loop.createConnection(() => new Protocol(), host, port);
    assert.deepEqual(t.getExtraInfo("peername"), [host, port]);
    assert.equal((t.getExtraInfo("sockname") as [string, number])[0], "127.0.0.1");
    assert.ok(t.getExtraInfo("socket") instanceof net.Socket);
    assert.equal(t.getExtraInfo("peercert"), undefined);
    assert.equal(t.getExtraInfo("cipher", "none"), "none");
    assert.match(String(t), /<SocketTransport open peer=\["127.0.0.1",\d+\]/);
    t.close();
    assert.equal(t.isClosing(), true);
  });
});

void test("startServing: false queues clients until serveForever; reusePort lets two servers share a port", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const server = await loop.createServer(() => new Echo(), "127.0.0.1", 0, { startServing: false, backlog: 10 });
    assert.equal(server.isServing(), false);
    const [t, client] = await loop.createConnection(() => new Recorder(), ...addressOf(server));
    t.write(Buffer.from("queued"));
    await sleep(0.02);
    assert.equal(client.data.length, 0, "not served yet");
    const forever = createTask(() => server.serveForever());
    while (client.data.length < 6) await sleep(0.002);
    assert.equal(client.data.toString(), "queued");
    t.close();
    forever.cancel();
    await assert.rejects(forever, CancelledError);
    assert.equal(server.isServing(), false);

    const a = await loop.createServer(() => new Echo(), "127.0.0.1", 0, { reusePort: true });
    const b = await loop.createServer(() => new Echo(), "127.0.0.1", addressOf(a)[1], { reusePort: true });
    assert.equal(addressOf(b)[1], addressOf(a)[1]);
    await assert.rejects(loop.createServer(() => new Echo(), "127.0.0.1", addressOf(a)[1]), (e: NodeJS.ErrnoException) => e.code === "EADDRINUSE");
    a.close();
    b.close();
    await a.waitClosed();
    await b.waitClosed();
  });
});

void test("closeClients and abortClients end the server's connections", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const server = await loop.createServer(() => new Echo(), "127.0.0.1", 0);
    const [, c1] = await loop.createConnection(() => new Recorder(), ...addressOf(server));
    const [, c2] = await loop.createConnection(() => new Recorder(), ...addressOf(server));
    while (server.activeCount < 2) await sleep(0.001);
    server.close();
    server.closeClients();
    assert.equal(await c1.lost, null);
    assert.equal(await c2.lost, null);
    await server.waitClosed();
    assert.equal(server.activeCount, 0);
  });
});

void test("a protocol callback that throws is reported and drops only that connection", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx.message));
    class Bad extends Protocol {
      override dataReceived(): void {
        throw new Error("bad protocol");
      }
    }
    await using server = await loop.createServer(() => new Bad(), "127.0.0.1", 0);
    const [t, client] = await loop.createConnection(() => new Recorder(), ...addressOf(server));
    t.write(Buffer.from("x"));
    await client.lost;
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /dataReceived\(\) failed/);
  });
});

void test("connectAcceptedSocket and startTls on the server side", async () => {
  const { key, cert } = selfSignedCert();
  await run(async () => {
    const loop = getRunningLoop();
    const sockets: net.Socket[] = [];
    const raw = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    const port = (raw.address() as net.AddressInfo).port;
    const serving = createTask(async () => {
      while (sockets.length === 0) await sleep(0.001);
      const [t] = await loop.connectAcceptedSocket(() => new Echo(), sockets[0]!, { ssl: { key, cert } });
      return t;
    });
    const [t, client] = await loop.createConnection(() => new Recorder(), "127.0.0.1", port, { ssl: { ca: cert }, serverHostname: "localhost" });
    const serverTransport = await serving;
    assert.equal(serverTransport.canWriteEof(), false);
    assert.throws(() => serverTransport.writeEof(), /half-close/);
    t.write(Buffer.from("tls echo"));
    while (client.data.length < 8) await sleep(0.002);
    assert.equal(client.data.toString(), "tls echo");
    t.close();
    await client.lost;
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  });
});

void test("getaddrinfo and getnameinfo", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const infos = await loop.getaddrinfo("127.0.0.1", 80);
    assert.deepEqual(infos[0], [4, 0, 0, "", ["127.0.0.1", 80]]);
    const local = await loop.getaddrinfo("localhost", "8080");
    assert.ok(local.length >= 1 && local.every(([, , , , addr]) => addr[1] === 8080));
    await assert.rejects(loop.getaddrinfo("no-such-host.invalid", 80), /no-such-host\.invalid/);
    const [hostname, service] = await loop.getnameinfo(["127.0.0.1", 22]);
    assert.equal(typeof hostname, "string");
    assert.equal(typeof service, "string");
  });
});

void test("sendfile: the read/write fallback sends the range; fallback: false throws SendfileNotAvailableError", async () => {
  const dir = tempDir();
  try {
    await run(async () => {
      const loop = getRunningLoop();
      const path = join(dir, "data.bin");
      const content = Buffer.from(Array.from({ length: 600_000 }, (_, i) => i % 251));
      await writeFile(path, content);
      const received: Recorder[] = [];
      await using server = await loop.createServer(() => {
        const p = new Recorder();
        received.push(p);
        return p;
      }, "127.0.0.1", 0);
      const [t] = await loop.createConnection(() => new Protocol(), ...addressOf(server));
      const file = await open(path);
      try {
        await assert.rejects(loop.sendfile(t, file, 0, null, { fallback: false }), SendfileNotAvailableError);
        const sent = await loop.sendfile(t, file, 10, 500_000);
        assert.equal(sent, 500_000);
      } finally {
        await file.close();
      }
      t.close();
      await received[0]!.lost;
      assert.ok(received[0]!.data.equals(content.subarray(10, 500_010)));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test("bad arguments get TypeErrors that say what to pass", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    await assert.rejects(loop.createConnection(() => new Protocol(), "127.0.0.1", 70000), /port number/);
    await assert.rejects(loop.createConnection(() => new Protocol(), "", 80), TypeError);
    await assert.rejects(loop.createServer(null as never, "127.0.0.1", 0), /protocol factory/);
    await assert.rejects(loop.createServer(() => new Protocol(), "127.0.0.1", 0, { ssl: true }), /certificate/);
  });
});

void test("TLS to an IP address checks the certificate's IP entry; serverHostname '' skips the check", async () => {
  const { key, cert } = selfSignedCert(); // its subjectAltName has IP:127.0.0.1 and DNS:localhost
  await run(async () => {
    const loop = getRunningLoop();
    await using server = await loop.createServer(() => new Echo(), "127.0.0.1", 0, { ssl: { key, cert } });
    const [host, port] = addressOf(server);
    const [t1] = await loop.createConnection(() => new Protocol(), host, port, { ssl: { ca: cert } });
    t1.close();
    const [t2] = await loop.createConnection(() => new Protocol(), host, port, { ssl: { ca: cert }, serverHostname: "" });
    t2.close();
    await assert.rejects(
      loop.createConnection(() => new Protocol(), host, port, { ssl: { ca: cert }, serverHostname: "example.com" }),
      (e: Error) => /example\.com/.test(e.message) && e.message.includes(`${host}:${port}`),
    );
  });
});

void test("servers, connections and UDP endpoints left open do not keep Node alive after run() returns", async () => {
  const { execFile } = await import("node:child_process");
  const script = `
    import { run, startServer, openConnection, getRunningLoop, DatagramProtocol } from ${JSON.stringify(new URL("../../src/index.ts", import.meta.url).href)};
    await run(async () => {
      const server = await startServer(async (r) => { await r.read(); }, "127.0.0.1", 0);
      const [, w] = await openConnection(...server.sockets[0].getsockname());
      w.write(Buffer.from("x"));
      await getRunningLoop().createDatagramEndpoint(() => new DatagramProtocol(), { localAddr: ["127.0.0.1", 0] });
    });
    console.log("exited");`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 15_000 }, (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout)));
  });
  assert.equal(out.trim(), "exited");
});

void test("lowering the limits below what is buffered pauses, and the protocol is resumed once it drains", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const pair = await recordedPair(loop);
    await using _server = pair.server;
    const { accepted, t, client } = pair;
    accepted[0]!.transport!.pauseReading();
    // Under the default 64 KiB mark, so no write carries a completion callback...
    for (let i = 0; i < 2000 && t.getWriteBufferSize() < 40_000; i++) t.write(Buffer.alloc(16 * 1024));
    assert.ok(t.getWriteBufferSize() >= 40_000 && t.getWriteBufferSize() <= 64 * 1024 + 16 * 1024);
    t.setWriteBufferLimits(1000); // ...then the mark drops below the buffer: paused now
    assert.deepEqual(client.events, ["made", "pause"]);
    accepted[0]!.transport!.resumeReading();
    while (!client.events.includes("resume")) await sleep(0.002);
    assert.ok(t.getWriteBufferSize() <= 250);
    t.abort();
    await client.lost;
  });
});

void test("ssl as a tls.SecureContext; setProtocol switches who receives the data", async () => {
  const { key, cert } = selfSignedCert();
  const tls = await import("node:tls");
  await run(async () => {
    const loop = getRunningLoop();
    await using server = await loop.createServer(() => new Echo(), "127.0.0.1", 0, { ssl: tls.createSecureContext({ key, cert }) });
    const [t, first] = await loop.createConnection(() => new Recorder(), ...addressOf(server), { ssl: tls.createSecureContext({ ca: cert }), serverHostname: "localhost" });
    assert.ok(t.getExtraInfo("sslcontext"));
    t.write(Buffer.from("one"));
    while (first.data.length < 3) await sleep(0.002);
    const second = new Recorder();
    t.setProtocol(second);
    assert.equal(t.getProtocol(), second);
    t.write(Buffer.from("two"));
    while (second.data.length < 3) await sleep(0.002);
    assert.equal(first.data.toString(), "one");
    assert.equal(second.data.toString(), "two");
    t.close();
    await second.lost;
    assert.equal(first.lost.done(), false, "only the current protocol hears connectionLost");
  });
});

void test("pauseReading() in connectionMade(): no data until resumeReading(), on both ends and on a read pipe", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    class Paused extends Protocol {
      data = "";
      transport: Transport | null = null;
      override connectionMade(transport: BaseTransport): void {
        this.transport = transport as Transport;
        (transport as ReadTransport).pauseReading();
      }
      override dataReceived(data: Buffer): void {
        this.data += data.toString();
      }
    }
    const accepted: Paused[] = [];
    const server = await loop.createServer(() => {
      const p = new Paused();
      accepted.push(p);
      return p;
    }, "127.0.0.1", 0);
    const [transport, client] = await loop.createConnection(() => new Paused(), ...addressOf(server));
    transport.write(Buffer.from("to server"));
    while (accepted.length === 0 || accepted[0]!.transport === null) await sleep(0.005);
    const peer = accepted[0]!;
    peer.transport!.write(Buffer.from("to client"));
    await sleep(0.1);
    assert.equal(client.data, "");
    assert.equal(peer.data, "");
    assert.equal(transport.isReading(), false);
    transport.resumeReading();
    peer.transport!.resumeReading();
    for (let i = 0; i < 200 && (client.data === "" || peer.data === ""); i++) await sleep(0.005);
    assert.equal(client.data, "to client");
    assert.equal(peer.data, "to server");
    transport.close();
    server.close();
    await server.waitClosed();

    // A child's stdout: Node resumes it when the child exits; the pause must hold through that.
    const child = spawn("echo", ["from pipe"], { stdio: ["ignore", "pipe", "ignore"] });
    const [pipe, reader] = await loop.connectReadPipe(() => new Paused(), child.stdout);
    await sleep(0.1);
    assert.equal(reader.data, "");
    pipe.resumeReading();
    for (let i = 0; i < 200 && reader.data === ""; i++) await sleep(0.005);
    assert.equal(reader.data, "from pipe\n");
  });
});
