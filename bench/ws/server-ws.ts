/**
 * Raw `ws` echo server configured as aiots/ws is: `server-ws.ts <deflate|plain>`. With deflate,
 * the same permessage-deflate settings as aiots (12-bit windows, memLevel 5), so the comparison is
 * of the layers, not of zlib settings. Port on the first stdout line.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

const deflate = process.argv[2] !== "plain";
const server = createServer();
const wss = new WebSocketServer({
  server,
  clientTracking: false,
  perMessageDeflate: deflate ? { serverMaxWindowBits: 12, clientMaxWindowBits: 12, zlibDeflateOptions: { memLevel: 5 } } : false,
});
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen({ host: "127.0.0.1", port: 0, backlog: 2048 }, () => {
  console.log((server.address() as AddressInfo).port);
});
