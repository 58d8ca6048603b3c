/** Helpers for the HTTP and WebSocket tests: serve an app on an ephemeral port, raw sockets, leak checks. */
import { connect as netConnect, type Socket } from "node:net";
import { allTasks, currentTask, getRunningLoop } from "../../src/index.ts";
import type { Application, HttpServer } from "../../src/http.ts";

/** A served app: its server, `http://127.0.0.1:port`, `ws://127.0.0.1:port` and the port. */
export interface Served {
  server: HttpServer;
  port: number;
  url: string;
  wsUrl: string;
}

/** Serves `app` on 127.0.0.1 with an ephemeral port. Close it with `await using` or `server.close()`. */
export async function serveApp(app: Application, options: { shutdownTimeout?: number } = {}): Promise<Served & AsyncDisposable> {
  const server = await app.serve({ host: "127.0.0.1", port: 0, ...options });
  const [, port] = server.sockets[0]!.getsockname() as [string, number];
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

/** Tasks other than the calling one still pending on the running loop. */
export function otherTasks(): number {
  const me = currentTask();
  return [...allTasks(getRunningLoop())].filter((t) => t !== me && !t.done()).length;
}

/** Open TCP handles of this process (sockets and servers), from Node's resource list. */
export function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;
}

/**
 * Sends `data` on a raw TCP connection and resolves to everything the server sends back until it
 * closes the connection (or `idleSeconds` pass with nothing new).
 */
export function rawExchange(port: number, data: string | Buffer, idleSeconds = 5): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(idleSeconds * 1000, () => socket.destroy());
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.write(data);
  });
}

/** A one-shot signal between tasks (a Future): `set()` wakes every `wait()`. */
export function flag(): { set(): void; wait(): Promise<void> } {
  const fut = getRunningLoop().createFuture<void>();
  return {
    set: () => {
      if (!fut.done()) fut.setResult(undefined);
    },
    wait: async () => {
      await fut;
    },
  };
}

/**
 * Open TCP handles once closing ones are gone: libuv frees a closed handle on a later loop turn,
 * so this polls (up to ~2 s) until the count is back to `expected`, and returns the count.
 */
export async function tcpHandlesSettled(expected: number): Promise<number> {
  const { sleep } = await import("../../src/index.ts");
  for (let i = 0; i < 200 && tcpHandles() !== expected; i++) await sleep(0.01);
  return tcpHandles();
}
