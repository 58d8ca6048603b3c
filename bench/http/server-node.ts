/** Raw node:http hello-world server (the baseline). Port on the first stdout line; runs until killed. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const body = "Hello, World!";
const server = createServer((_req, res) => {
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(body));
  res.end(body);
});
server.listen({ host: "127.0.0.1", port: 0, backlog: 2048 }, () => {
  console.log((server.address() as AddressInfo).port);
});
