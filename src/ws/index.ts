/**
 * The WebSocket layer's surface for `http/`, whose Application and `serve()` serve WebSockets.
 * @module
 */
export { Channels, type ChannelsBackend } from "./channels.ts";
export { type ConnectionInfo, type ConnectionOptions, type HandshakeRequest, WebSocket } from "./connection.ts";
export { ConnectionClosed } from "./errors.ts";
export { type Compression, deflateOptions, serverSecureContext, type WsSslOption } from "./options.ts";
