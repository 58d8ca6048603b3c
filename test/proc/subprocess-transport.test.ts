import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEVNULL,
  ReadTransport,
  SubprocessProtocol,
  SubprocessTransport,
  WriteTransport,
  getRunningLoop,
  run,
  type AbstractEventLoop,
  type Future,
} from "../../src/index.ts";
import { captureLoopErrors } from "../helpers/index.ts";

/** Records every protocol call, in order; `done` settles on connectionLost. */
class Recorder extends SubprocessProtocol {
  readonly events: string[] = [];
  readonly data = new Map<number, Buffer[]>();
  readonly done: Future<void>;
  transport: SubprocessTransport | null = null;

  constructor(loop: AbstractEventLoop) {
    super();
    this.done = loop.createFuture<void>();
  }

  override connectionMade(transport: SubprocessTransport): void {
    this.transport = transport;
    this.events.push("connectionMade");
  }

  override pipeDataReceived(fd: number, data: Buffer): void {
    const list = this.data.get(fd) ?? [];
    list.push(data);
    this.data.set(fd, list);
  }

  override pipeConnectionLost(fd: number, exc: Error | null): void {
    this.events.push(`pipeConnectionLost ${fd} ${exc === null ? "null" : exc.name}`);
  }

  override processExited(): void {
    this.events.push("processExited");
  }

  override connectionLost(exc: Error | null): void {
    this.events.push(`connectionLost ${String(exc)}`);
    this.done.setResult(undefined);
  }

  text(fd: number): string {
    return Buffer.concat(this.data.get(fd) ?? []).toString();
  }
}

void test("subprocessExec connects a SubprocessProtocol: data per fd, then pipes lost, exit, connectionLost", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const [transport, protocol] = await loop.subprocessExec(() => new Recorder(loop), process.execPath, [
      "-e",
      "process.stdin.on('data', (d) => process.stdout.write(d)); process.stdin.on('end', () => process.stderr.write('bye'))",
    ]);
    assert.ok(transport instanceof SubprocessTransport);
    assert.equal(protocol.transport, transport, "connectionMade ran before the caller got the transport");
    assert.ok(transport.getPid() > 0);
    assert.equal(transport.getReturncode(), null);
    const stdin = transport.getPipeTransport(0);
    assert.ok(stdin instanceof WriteTransport);
    assert.ok(transport.getPipeTransport(1) instanceof ReadTransport);
    assert.ok(transport.getPipeTransport(2) instanceof ReadTransport);
    assert.equal(transport.getPipeTransport(3), null);
    stdin.write(Buffer.from("echo me"));
    stdin.writeEof();
    await protocol.done;
    assert.equal(protocol.text(1), "echo me");
    assert.equal(protocol.text(2), "bye");
    assert.equal(transport.getReturncode(), 0);
    const events = protocol.events;
    assert.equal(events[0], "connectionMade");
    assert.equal(events.at(-1), "connectionLost null");
    assert.deepEqual(events.filter((e) => e.startsWith("pipeConnectionLost")).sort(), ["pipeConnectionLost 0 null", "pipeConnectionLost 1 null", "pipeConnectionLost 2 null"]);
    assert.ok(events.includes("processExited"));
    transport.close();
  });
});

void test("subprocessShell runs a command; DEVNULL pipes have no transport; wait() resolves after connectionLost", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const [transport, protocol] = await loop.subprocessShell(() => new Recorder(loop), "echo $((6 * 7)); exit 5", { stdin: DEVNULL, stderr: DEVNULL });
    assert.equal(transport.getPipeTransport(0), null);
    assert.equal(transport.getPipeTransport(2), null);
    assert.equal(await transport.wait(), 5);
    assert.equal(protocol.events.at(-1), "connectionLost null");
    assert.equal(protocol.text(1), "42\n");
    assert.match(String(transport), /^<ChildProcessTransport pid=\d+ returncode=5>$/);
  });
});

void test("close() kills a child that is still running; sendSignal on a closed transport is an error", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const [transport, protocol] = await loop.subprocessExec(() => new Recorder(loop), "sleep", ["30"], { stdin: DEVNULL });
    assert.match(String(transport), /running pipes=1,2/);
    transport.close();
    assert.equal(transport.isClosing(), true);
    await protocol.done;
    assert.equal(transport.getReturncode(), -9);
    transport.terminate(); // exited: nothing to do
    const [other] = await loop.subprocessExec(() => new Recorder(loop), "sleep", ["30"], { stdin: DEVNULL, stdout: DEVNULL, stderr: DEVNULL });
    other.close();
    assert.throws(() => other.sendSignal("SIGTERM"), /closed/);
  });
});

void test("an exception in a protocol callback goes to the loop's exception handler", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const errors = captureLoopErrors();
    class Faulty extends Recorder {
      override pipeDataReceived(): void {
        throw new Error("boom in pipeDataReceived");
      }
    }
    const [, protocol] = await loop.subprocessExec(() => new Faulty(loop), "echo", ["x"], { stdin: DEVNULL, stderr: DEVNULL });
    await protocol.done;
    assert.equal(errors.length, 1);
    assert.match((errors[0]!.exception as Error).message, /boom in pipeDataReceived/);
  });
});

void test("the loop methods check their arguments", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    await assert.rejects(loop.subprocessExec(() => new SubprocessProtocol(), "", []), /non-empty string/);
    await assert.rejects(loop.subprocessExec(() => new SubprocessProtocol(), "ls", [1] as never), /array of strings/);
    await assert.rejects(loop.subprocessShell(() => new SubprocessProtocol(), 42 as never), /non-empty string/);
    await assert.rejects(loop.subprocessExec(null as never, "ls", []), /protocol factory/);
    await assert.rejects(loop.subprocessExec(() => new SubprocessProtocol(), "ls", [], { stdin: 1.5 }), /stdin must be PIPE/);
  });
});

void test("a protocol factory that throws rejects the call and starts no child", async () => {
  await run(async () => {
    const children = (): number => process.getActiveResourcesInfo().filter((r) => r === "ProcessWrap").length;
    const before = children();
    const failing = (): SubprocessProtocol => {
      throw new Error("factory failed");
    };
    await assert.rejects(getRunningLoop().subprocessExec(failing, "sleep", ["30"]), /factory failed/);
    assert.equal(children(), before);
  });
});
