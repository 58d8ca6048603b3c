/**
 * aiots/http: an aiohttp-style client and a Sanic/aiohttp-style server on the aiots task model.
 * This file only re-exports.
 * @module
 */
export { ClientSession, type ClientSessionOptions, type ClientTimeout, type RequestOptions, type RequestBody } from "./client-session.ts";
export { ClientResponse } from "./client-response.ts";
export { Application, type ApplicationOptions, type Handler, type Middleware } from "./application.ts";
export { HttpServer, type ServeOptions } from "./server.ts";
export { Request } from "./request.ts";
export { Response, json, text, html, stream, type ResponseBody, type ResponseInit } from "./responses.ts";
export { Router, type Resolution } from "./router.ts";
export { ClientError, ClientConnectionError, ClientResponseError, HttpError } from "./errors.ts";
export type { WebSocketHandler, WebSocketRouteOptions } from "../ws/server.ts";
