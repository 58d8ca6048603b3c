/**
 * Demo 3 — a server with a JSON route and a WebSocket `/feed` that sends a message every second.
 * Each request runs in its own task; the feed handler is a plain loop of `send` + `sleep`.
 *
 *   node examples/server.ts            # serves on 127.0.0.1:8000 until Ctrl-C
 *   curl http://127.0.0.1:8000/        # {"message":"Hello, aiots !"}
 */
import { run, sleep } from "../src/index.ts";
import { Application, json } from "../src/http.ts";

export interface FeedEvent {
  seq: number;
  symbol: string;
  price: number;
}

/** The demo application: `/`, `/items/:id` and the WebSocket `/feed` (one event per `interval` seconds). */
export function createApp({ interval = 1 }: { interval?: number } = {}): Application {
  const app = new Application();
  app.get("/", () => json({ message: "Hello, aiots !" }));
  app.get("/items/:id", (request) => json({ id: Number(request.params.id), name: `item ${request.params.id}` }));
  app.websocket("/feed", async (_request, ws) => {
    let price = 100;
    for (let seq = 1; ; seq++) {
      price = Math.round((price + Math.sin(seq) * 2) * 100) / 100;
      const event: FeedEvent = { seq, symbol: "AIO", price };
      await ws.send(JSON.stringify(event));
      await sleep(interval);
    }
  });
  return app;
}

if (import.meta.main) {
  await run(async () => {
    const port = Number(process.env.PORT ?? 8000);
    await createApp().serveForever({
      host: "127.0.0.1",
      port,
      onReady: (server) => console.log(`serving on http://${(server.sockets[0]!.getsockname() as [string, number]).join(":")}/ (Ctrl-C stops)`),
    });
  });
}
