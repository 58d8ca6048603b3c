/**
 * Callbacks that asyncio runs outside any task — protocol callbacks, Node handle events — see no
 * current task, even when the connection, endpoint or child was opened by a task. (Node handles keep
 * the async context they were created in, so aiots creates them outside the creating task.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DatagramProtocol, Protocol, SubprocessProtocol, currentTask, getRunningLoop, run, sleep, type Transport } from "../../src/index.ts";

function where(): string {
  return currentTask()?.getName() ?? "no task";
}

test("TCP protocol callbacks on both ends run outside the task that opened them", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const seen: string[] = [];
    class Recorder extends Protocol {
      readonly side: string;
      constructor(side: string) {
        super();
        this.side = side;
      }
      override connectionMade(transport: Transport): void {
        seen.push(`${this.side} made: ${where()}`);
        if (this.side === "client") transport.write(Buffer.from("hi"));
      }
      override dataReceived(): void {
        seen.push(`${this.side} data: ${where()}`);
        // A sleep started here must not belong to (and be cancelled with) the main task.
        void sleep(0);
      }
    }
    const server = await loop.createServer(() => new Recorder("server"), "127.0.0.1", 0);
    const port = (server.sockets[0]!.getsockname() as [string, number])[1];
    const [transport] = await loop.createConnection(() => new Recorder("client"), "127.0.0.1", port);
    for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(0.01);
    transport.close();
    server.close();
    await server.waitClosed();
    assert.deepEqual(seen.sort(), ["client made: no task", "server data: no task", "server made: no task"]);
  });
});

test("UDP and subprocess protocol callbacks run outside the opening task", async () => {
  await run(async () => {
    const loop = getRunningLoop();
    const seen: string[] = [];
    class Udp extends DatagramProtocol {
      override connectionMade(): void {
        seen.push(`udp made: ${where()}`);
      }
    }
    const [udp] = await loop.createDatagramEndpoint(() => new Udp(), { localAddr: ["127.0.0.1", 0] });
    udp.close();
    const exited = loop.createFuture<void>();
    class Child extends SubprocessProtocol {
      override pipeDataReceived(): void {
        seen.push(`child data: ${where()}`);
      }
      override processExited(): void {
        if (!exited.done()) exited.setResult();
      }
    }
    const [child] = await loop.subprocessExec(() => new Child(), process.execPath, ["-e", "process.stdout.write('x')"]);
    await exited;
    for (let i = 0; i < 50 && seen.length < 2; i++) await sleep(0.01);
    child.close();
    assert.deepEqual(seen.sort(), ["child data: no task", "udp made: no task"]);
  });
});
