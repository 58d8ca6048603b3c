/**
 * Echo server on raw node:net for the connection-scaling cases (the baseline): each socket piped
 * into itself, which honours backpressure. Port on the first stdout line; runs until killed.
 */
import net from "node:net";

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on("error", () => socket.destroy());
  socket.pipe(socket);
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
});
