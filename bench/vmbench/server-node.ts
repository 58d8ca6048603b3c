/**
 * Raw node:net echo server in vmbench's shape (its nodeecho.js): every "data" chunk written straight
 * back, TCP_NODELAY on. Prints its port, then serves until killed.
 */
import net from "node:net";

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on("data", (data) => socket.write(data));
  socket.on("error", () => socket.destroy());
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
});
