import { test } from "node:test";
import assert from "node:assert/strict";
import { BaseTransport, ReadTransport, WriteTransport, Transport, DatagramTransport, BaseProtocol, Protocol, BufferedProtocol, DatagramProtocol, SubprocessProtocol } from "../../src/index.ts";

class Fake extends Transport {
  written: Uint8Array[] = [];
  closing = false;
  getExtraInfo(): undefined {
    return undefined;
  }
  isClosing(): boolean {
    return this.closing;
  }
  close(): void {
    this.closing = true;
  }
  setProtocol(): void {}
  getProtocol(): BaseProtocol {
    return new BaseProtocol();
  }
  isReading(): boolean {
    return true;
  }
  pauseReading(): void {}
  resumeReading(): void {}
  write(data: Uint8Array): void {
    this.written.push(data);
  }
  writeEof(): void {}
  canWriteEof(): boolean {
    return true;
  }
  abort(): void {}
  getWriteBufferSize(): number {
    return 0;
  }
  setWriteBufferLimits(): void {}
  getWriteBufferLimits(): [number, number] {
    return [0, 0];
  }
}

void test("a Transport is a ReadTransport and a WriteTransport (as asyncio's multiple inheritance)", () => {
  const t = new Fake();
  assert.ok(t instanceof BaseTransport);
  assert.ok(t instanceof ReadTransport);
  assert.ok(t instanceof WriteTransport);
  assert.ok(!(t instanceof DatagramTransport));
  assert.ok(!({} instanceof ReadTransport));
});

void test("writeLines writes each buffer in order; asyncDispose closes", async () => {
  const t = new Fake();
  t.writeLines([Buffer.from("a"), Buffer.from("b")]);
  assert.deepEqual(t.written.map((b) => Buffer.from(b).toString()), ["a", "b"]);
  await t[Symbol.asyncDispose]();
  assert.equal(t.isClosing(), true);
  assert.equal(String(t), "<Fake closing>");
});

void test("protocol base classes have do-nothing defaults; BufferedProtocol.getBuffer must be overridden", () => {
  const p = new Protocol();
  p.connectionMade(new Fake());
  p.dataReceived(Buffer.from("x"));
  assert.equal(p.eofReceived(), undefined);
  p.pauseWriting();
  p.resumeWriting();
  p.connectionLost(null);
  assert.throws(() => new BufferedProtocol().getBuffer(10), /must override getBuffer/);
  new DatagramProtocol().errorReceived(new Error("x"));
  new SubprocessProtocol().processExited();
});
