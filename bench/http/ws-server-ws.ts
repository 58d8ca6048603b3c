/** Raw `ws` WebSocket echo server (the baseline), on a node:http server. Port on the first stdout line. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

const server = createServer();
const wss = new WebSocketServer({ server, path: "/echo", perMessageDeflate: false, clientTracking: false });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen({ host: "127.0.0.1", port: 0, backlog: 2048 }, () => {
  console.log((server.address() as AddressInfo).port);
});
