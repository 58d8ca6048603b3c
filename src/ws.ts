/**
 * aiots/ws: WebSockets with Python websockets' asyncio API. This file only re-exports.
 * @module
 */
export { connect, type ConnectOptions } from "./ws/client.ts";
export { WebSocket, type Message, type ConnectionOptions } from "./ws/connection.ts";
export { Channels, type ChannelsBackend } from "./ws/channels.ts";
export { ConnectionClosed, ConnectionClosedOK, ConnectionClosedError, InvalidStatus } from "./ws/errors.ts";
export type { WebSocketHandler, WebSocketRouteOptions } from "./http/websocket-routes.ts";
