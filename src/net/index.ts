/**
 * The networking layer's surface for the layers above it (proc, loop, http): transports on sockets and
 * pipes, connection and server creation, streams.
 * @module
 */
export { createDatagramEndpoint } from "./datagram-transport.ts";
export { connectReadPipe, connectWritePipe, ReadPipeTransport, WritePipeTransport } from "./pipe-transport.ts";
export { StreamReader, StreamReaderProtocol, StreamWriter } from "./streams.ts";
export {
  connectAcceptedSocket,
  createConnection,
  createServer,
  createUnixConnection,
  createUnixServer,
  getaddrinfo,
  getnameinfo,
  sendfile,
  startTls,
} from "./network.ts";
