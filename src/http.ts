/**
 * aiots/http: an aiohttp-style client and a Sanic/aiohttp-style server on the aiots task model.
 * This file only re-exports.
 * @module
 */
export {
  ClientSession,
  type ClientSessionOptions,
  type ClientCommonOptions,
  type ClientTimeout,
  type RequestOptions,
  type ClientMiddleware,
  type ClientHandler,
} from "./http/client-session.ts";
export { ClientResponse } from "./http/client-response.ts";
export { ClientRequest, type RequestBody } from "./http/client-request.ts";
export { CookieJar } from "./http/client-cookie-jar.ts";
export type { ClientSsl, ClientSslOptions } from "./http/client-pool.ts";
export {
  ClientSSLError,
  ClientPayloadError,
  TooManyRedirects,
  InvalidUrlRedirectClientError,
  NonHttpUrlRedirectClientError,
} from "./http/client-errors.ts";
export { Application, type ApplicationOptions, type Handler, type Middleware } from "./http/application.ts";
export { HttpServer, type ServeOptions } from "./http/server.ts";
export { Request } from "./http/request.ts";
export { Response, json, text, html, stream, type ResponseBody, type ResponseInit } from "./http/responses.ts";
export { Router, type Resolution } from "./http/router.ts";
export { ClientError, ClientConnectionError, ClientResponseError, HttpError } from "./http/errors.ts";
export type { WebSocketHandler, WebSocketRouteOptions } from "./http/websocket-routes.ts";
