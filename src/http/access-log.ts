/**
 * The access log (`new Application({ accessLog })`): one Common Log Format line per request,
 * `host ident user [date] "request line" status bytes`, as Apache's and aiohttp's defaults.
 * @module
 */
import type { ServerResponse } from "node:http";
import type { Request } from "./request.ts";
import type { SendContext } from "./send.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function clfDate(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${p(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`;
}

function escapeLogText(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f || c === '"' || c === "\\" ? `\\x${code.toString(16).padStart(2, "0")}` : c;
  }
  return out;
}

/** One CLF line (no newline); a response cut short is logged with the status it had. @internal */
export function formatAccessLine(request: Request, res: ServerResponse, ctx: SendContext, now = new Date()): string {
  const raw = request.raw;
  // The request line as sent; quotes and control characters escaped so a line cannot be forged.
  const line = escapeLogText(`${request.method} ${request.rawPath} HTTP/${raw.httpVersion}`);
  const host = raw.socket?.remoteAddress ?? "-";
  const status = res.headersSent ? res.statusCode : 0;
  return `${host} - - [${clfDate(now)}] "${line}" ${status} ${ctx.sent > 0 ? ctx.sent : "-"}`;
}

/** Where `accessLog: true` writes: stdout, one line per request. @internal */
export function defaultAccessSink(line: string): void {
  process.stdout.write(`${line}\n`);
}
