/**
 * aiots/ws: WebSockets with Python websockets' asyncio API. This file only re-exports.
 * @module
 */
export { connect, type ConnectOptions } from "./client.ts";
export { WebSocket, type Message, type ConnectionOptions } from "./connection.ts";
export { Channels } from "./channels.ts";
export { ConnectionClosed, ConnectionClosedOK, ConnectionClosedError, InvalidStatus } from "./errors.ts";
export type { WebSocketHandler, WebSocketRouteOptions } from "./server.ts";
