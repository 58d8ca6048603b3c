/**
 * The WebSocket layer's surface for `http/`, whose Application serves WebSocket routes.
 * @module
 */
export { Channels, type ChannelsBackend } from "./channels.ts";
export { type ConnectionOptions, WebSocket } from "./connection.ts";
export { ConnectionClosed } from "./errors.ts";
