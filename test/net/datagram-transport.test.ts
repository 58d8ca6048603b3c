import { test } from "node:test";
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import { run, getRunningLoop, sleep, DatagramProtocol, DatagramTransport, type Future } from "../../src/index.ts";

class Collector extends DatagramProtocol {
  transport!: DatagramTransport;
  datagrams: [string, [string, number]][] = [];
  errors: Error[] = [];
  lost: Future<Error | null> = getRunningLoop().createFuture();
  made = 0;
  override connectionMade(t: DatagramTransport): void {
    this.transport = t;
    this.made++;
  }
  override datagramReceived(data: Buffer, addr: [string, number]): void {
    this.datagrams.push([data.toString(), addr]);
  }
  override errorReceived(exc: Error): void {
    this.errors.push(exc);
  }
  override connectionLost(exc: Error | null): void {
    this.lost.setResult(exc);
  }
}

class EchoUdp extends DatagramProtocol {
  transport!: DatagramTransport;
  override connectionMade(t: DatagramTransport): void {
    this.transport = t;
  }
  override datagramReceived(data: Buffer, addr: [string, number]): void {
    this.transport.sendto(data, addr);
  }
}

void test("UDP echo: localAddr server, remoteAddr client, datagramReceived with the sender's address", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const [server] = await loop.createDatagramEndpoint(() => new EchoUdp(), { localAddr: ["127.0.0.1", 0] });
    const [host, port] = server.getExtraInfo("sockname") as [string, number];
    assert.equal(host, "127.0.0.1");
    const [client, proto] = await loop.createDatagramEndpoint(() => new Collector(), { remoteAddr: [host, port] });
    assert.ok(client instanceof DatagramTransport);
    assert.deepEqual(client.getExtraInfo("peername"), [host, port]);
    client.sendto(Buffer.from("one"));
    client.sendto(Buffer.from("two"), [host, port]);
    while (proto.datagrams.length < 2) await sleep(0.002);
    assert.deepEqual(proto.datagrams.map(([d]) => d).sort(), ["one", "two"]);
    assert.deepEqual(proto.datagrams[0]![1], [host, port]);
    assert.throws(() => client.sendto(Buffer.from("x"), ["127.0.0.1", port + 1]), /Invalid address/);
    assert.throws(() => server.sendto(Buffer.from("x")), /needs an address/);
    assert.throws(() => server.sendto("text" as unknown as Buffer, [host, port]), TypeError);
    assert.equal(proto.made, 1);
    client.close();
    server.close();
    assert.equal(await proto.lost, null);
    assert.equal(client.isClosing(), true);
    client.sendto(Buffer.from("dropped")); // after close: silently dropped, as asyncio
  });
});

void test("a connected endpoint reports ICMP port unreachable through errorReceived and stays open", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    // Find a UDP port with nobody listening.
    const probe = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
    const port = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const [t, proto] = await loop.createDatagramEndpoint(() => new Collector(), { remoteAddr: ["127.0.0.1", port] });
    for (let i = 0; i < 50 && proto.errors.length === 0; i++) {
      t.sendto(Buffer.from("anyone?"));
      await sleep(0.01);
    }
    assert.ok(proto.errors.length > 0, "errorReceived was called");
    assert.match((proto.errors[0] as NodeJS.ErrnoException).code ?? "", /ECONNREFUSED/);
    assert.equal(t.isClosing(), false);
    t.close();
    await proto.lost;
  });
});

void test("bad addresses are rejected with TypeErrors; bind errors name the address", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    await assert.rejects(loop.createDatagramEndpoint(() => new Collector(), { localAddr: "127.0.0.1" as never }), TypeError);
    const [a] = await loop.createDatagramEndpoint(() => new Collector(), { localAddr: ["127.0.0.1", 0] });
    const port = (a.getExtraInfo("sockname") as [string, number])[1];
    await assert.rejects(loop.createDatagramEndpoint(() => new Collector(), { localAddr: ["127.0.0.1", port] }), (e: Error) => e.message.includes(`127.0.0.1:${port}`));
    assert.equal(a.getWriteBufferSize(), 0);
    assert.match(String(a), /<DatagramSocketTransport open sockname=\["127.0.0.1",\d+\]>/);
    a.close();
  });
});
