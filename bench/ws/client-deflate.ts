/**
 * Load client for the compressed echo: `client-deflate.ts <port> <connections> <seconds> <bytes> <warmup>`.
 * Each connection offers permessage-deflate (ws's client defaults, as browsers and websockets do)
 * and runs strict request/response: one message out, wait for its echo, repeat. Prints
 * `{"perSecond": n}` counted after the warm-up.
 */
import WebSocket from "ws";

const [port, conns = "10", seconds = "5", bytes = "64", warmup = "0.5"] = process.argv.slice(2);
const message = "x".repeat(Number(bytes));
let counting = false;
let count = 0;
let stop = false;
const sockets: WebSocket[] = [];
await Promise.all(
  Array.from({ length: Number(conns) }, async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`, { perMessageDeflate: { zlibDeflateOptions: { memLevel: 5 } } });
    sockets.push(ws);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    if (ws.extensions === "") throw new Error("the server did not accept permessage-deflate");
    ws.on("message", (data) => {
      if (data.toString() !== message) throw new Error("the echo differs");
      if (counting) count++;
      if (!stop) ws.send(message);
    });
  }),
);
for (const ws of sockets) ws.send(message);
await new Promise((r) => setTimeout(r, Number(warmup) * 1000));
counting = true;
const started = performance.now();
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const elapsed = (performance.now() - started) / 1000;
counting = false;
stop = true;
process.stdout.write(`${JSON.stringify({ perSecond: count / elapsed })}\n`);
for (const ws of sockets) ws.terminate();
