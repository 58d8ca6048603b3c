/**
 * aiots/ws: WebSockets with Python websockets' asyncio API. This file only re-exports.
 * @module
 */
export { connect, Connect, type ConnectOptions, type BackoffOptions } from "./ws/client.ts";
export { WebSocket, type Message, type Sendable, type HandshakeRequest, type ConnectionOptions } from "./ws/connection.ts";
export { Channels, type ChannelsBackend } from "./ws/channels.ts";
export { broadcast, type BroadcastOptions } from "./ws/broadcast.ts";
export { ConnectionClosed, ConnectionClosedOK, ConnectionClosedError, InvalidStatus } from "./ws/errors.ts";
export type { Compression, WsSslOption } from "./ws/options.ts";
export type { WebSocketHandler, WebSocketRouteOptions, OriginRule } from "./http/websocket-routes.ts";
export { serve, WebSocketServer, type WebSocketServeOptions, type ServeHandler, type ProcessRequestResult } from "./http/ws-serve.ts";
