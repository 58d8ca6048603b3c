import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { run, getRunningLoop, sleep, Protocol, BaseProtocol, ReadTransport, WriteTransport, type Future } from "../../src/index.ts";

class Lines extends Protocol {
  data = "";
  events: string[] = [];
  lost: Future<Error | null> = getRunningLoop().createFuture();
  override connectionMade(): void {
    this.events.push("made");
  }
  override dataReceived(d: Buffer): void {
    this.data += d.toString();
  }
  override eofReceived(): void {
    this.events.push("eof");
  }
  override connectionLost(exc: Error | null): void {
    this.events.push("lost");
    this.lost.setResult(exc);
  }
}

void test("connectWritePipe and connectReadPipe over a child's stdin and stdout", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const child = spawn("cat", [], { stdio: ["pipe", "pipe", "ignore"] });
    const [reader, lines] = await loop.connectReadPipe(() => new Lines(), child.stdout);
    const [writer] = await loop.connectWritePipe(() => new BaseProtocol(), child.stdin);
    assert.ok(reader instanceof ReadTransport);
    assert.ok(writer instanceof WriteTransport);
    assert.equal(reader.getExtraInfo("pipe"), child.stdout);
    writer.write(Buffer.from("through cat\n"));
    writer.writeLines([Buffer.from("a"), Buffer.from("b\n")]);
    assert.equal(writer.canWriteEof(), true);
    writer.writeEof();
    assert.throws(() => writer.write(Buffer.from("late")), /after writeEof/);
    assert.equal(await lines.lost, null);
    assert.equal(lines.data, "through cat\nab\n");
    assert.deepEqual(lines.events, ["made", "eof", "lost"]);
    if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
    assert.equal(child.exitCode, 0);
  });
});

void test("pauseReading holds data back until resumeReading", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    // cat stays alive until its stdin closes (Node resumes a child's stdout when the child exits).
    const child = spawn("cat", [], { stdio: ["pipe", "pipe", "ignore"] });
    const [reader, lines] = await loop.connectReadPipe(() => new Lines(), child.stdout);
    child.stdin.write("first\n");
    while (lines.data === "") await sleep(0.002);
    reader.pauseReading();
    assert.equal(reader.isReading(), false);
    child.stdin.write("second\n");
    await sleep(0.1);
    assert.equal(lines.data, "first\n");
    reader.resumeReading();
    child.stdin.end();
    await lines.lost;
    assert.equal(lines.data, "first\nsecond\n");
  });
});

void test("a write pipe whose reader went away reports the error through connectionLost", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const child = spawn("sh", ["-c", "exec 0<&-; sleep 5"], { stdio: ["pipe", "ignore", "ignore"] });
    const lost = loop.createFuture<Error | null>();
    class W extends BaseProtocol {
      override connectionLost(exc: Error | null): void {
        lost.setResult(exc);
      }
    }
    const [writer] = await loop.connectWritePipe(() => new W(), child.stdin);
    for (let i = 0; i < 100 && !lost.done(); i++) {
      writer.write(Buffer.alloc(65536));
      await sleep(0.005);
    }
    const exc = await lost;
    child.kill();
    assert.ok(exc instanceof Error, `expected an error, got ${String(exc)}`);
    assert.match((exc as NodeJS.ErrnoException).code ?? "", /EPIPE|ECONNRESET/);
    await assert.rejects(loop.connectReadPipe(() => new Lines(), {} as never), TypeError);
  });
});
