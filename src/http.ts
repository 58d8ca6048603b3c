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
export { Application, type ApplicationOptions, type Handler, type Middleware, type ServeForeverOptions } from "./http/application.ts";
export type { AppHook, CleanupContext } from "./http/lifecycle.ts";
export { HttpServer, type ServeOptions } from "./http/server.ts";
export { Request } from "./http/request.ts";
export { Response, json, text, html, stream, type ResponseBody, type ResponseInit } from "./http/responses.ts";
export { StreamResponse } from "./http/stream-response.ts";
export { FileResponse } from "./http/static-files.ts";
export { BodyPart } from "./http/multipart.ts";
export type { CookieOptions } from "./http/cookies.ts";
export { Router, type Resolution } from "./http/router.ts";
export { CIMultiDict, type HeadersInit } from "./http/headers.ts";
export { ClientError, ClientConnectionError, ClientResponseError, HttpError, type ClientResponseErrorInit } from "./http/errors.ts";
export type { WorkerOptions } from "./http/workers.ts";
export type { WebSocketHandler, WebSocketRouteOptions } from "./http/websocket-routes.ts";
