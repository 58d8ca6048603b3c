/** Helpers for the dead-peer tests: a write()/drain() loop, a ticking task, a FIFO with a closable reader. */
import { closeSync, constants, openSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createTask, sleep, type StreamWriter } from "../../src/index.ts";

/**
 * Writes `chunk` and awaits `drain()` until one of them throws, at most `maxWrites` times and for
 * at most `maxMs` of wall-clock time (a loop that starves the timers cannot be bounded by them).
 */
export async function writeUntilError(writer: StreamWriter, chunk: Uint8Array, maxWrites: number, maxMs: number): Promise<{ writes: number; error: Error | null }> {
  const started = Date.now();
  let writes = 0;
  try {
    while (writes < maxWrites && Date.now() - started < maxMs) {
      writer.write(chunk);
      await writer.drain();
      writes++;
    }
  } catch (error) {
    return { writes, error: error as Error };
  }
  return { writes, error: null };
}

/** A task that sleeps `interval` seconds in a loop; `stop()` cancels it and resolves to its wake-up count. */
export function ticker(interval: number): { stop(): Promise<number> } {
  let ticks = 0;
  const task = createTask(async () => {
    for (;;) {
      await sleep(interval);
      ticks++;
    }
  });
  return {
    async stop() {
      task.cancel();
      await Promise.allSettled([task]);
      return ticks;
    },
  };
}

/** Makes a FIFO at `path` and opens both ends without blocking; `closeReader()` leaves the writer with EPIPE. */
export function fifoPair(path: string): { writeFd: number; closeReader(): void } {
  execFileSync("mkfifo", [path]);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  let open = true;
  return {
    writeFd,
    closeReader() {
      if (open) closeSync(readFd);
      open = false;
    },
  };
}

/** Blocks this thread for `ms` milliseconds (no event can run meanwhile). */
export function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const RESETTING_PEER = `
import socket, struct
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.recv(1)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`;

/** A Python TCP server (another process) that resets its one connection after reading a byte. */
export async function resettingPeer(): Promise<{ port: number; [Symbol.asyncDispose](): Promise<void> }> {
  const child = spawn("/usr/bin/python3", ["-c", RESETTING_PEER], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(child.stdout, "data")) as [Buffer];
  return {
    port: Number(line.toString().trim()),
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await once(child, "exit");
      }
    },
  };
}
