/**
 * Server-side cookies: parsing a request's `Cookie` header and writing `Set-Cookie` values, on the
 * `cookie` package (RFC 6265 syntax, the encoding browsers expect). Options are checked here so a
 * mistake is reported where it is made, naming the cookie.
 * @module
 */
import { parseCookie, stringifySetCookie } from "cookie";

/** Attributes of `response.setCookie(name, value, options)` (aiohttp's `set_cookie` keywords). */
export interface CookieOptions {
  /** Seconds until the cookie expires (`Max-Age`); 0 or less expires it at once. */
  maxAge?: number;
  /** When the cookie expires (`Expires`), a `Date` or anything `new Date()` accepts. */
  expires?: Date | string | number;
  /** The path the cookie applies to (default `"/"`, as aiohttp). */
  path?: string;
  /** The domain the cookie applies to (default: the host that set it). */
  domain?: string;
  /** Send only over HTTPS. */
  secure?: boolean;
  /** Hide it from JavaScript in the browser. */
  httpOnly?: boolean;
  /** `"Strict"`, `"Lax"` or `"None"` (case-insensitive); `"None"` needs `secure`. */
  sameSite?: "Strict" | "Lax" | "None" | "strict" | "lax" | "none";
}

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The `Set-Cookie` value for one cookie. The value is percent-encoded where RFC 6265 requires it.
 * @throws {TypeError} for a name that is not a token, a bad path/domain, an invalid date or sameSite.
 * @internal
 */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(`invalid cookie name ${JSON.stringify(name)}: a cookie name is a token (letters, digits, !#$%&'*+-.^_\`|~)`);
  }
  if (typeof value !== "string") throw new TypeError(`the value of cookie ${name} must be a string, not ${typeof value}`);
  const { maxAge, path = "/", domain, secure, httpOnly, sameSite } = options;
  if (maxAge !== undefined && (typeof maxAge !== "number" || !Number.isFinite(maxAge))) {
    throw new TypeError(`maxAge of cookie ${name} must be a finite number of seconds, not ${String(maxAge)}`);
  }
  let expires: Date | undefined;
  if (options.expires !== undefined) {
    expires = options.expires instanceof Date ? options.expires : new Date(options.expires);
    if (Number.isNaN(expires.getTime())) throw new TypeError(`expires of cookie ${name} is not a valid date: ${String(options.expires)}`);
  }
  let site: "strict" | "lax" | "none" | undefined;
  if (sameSite !== undefined) {
    const lower = String(sameSite).toLowerCase();
    if (lower !== "strict" && lower !== "lax" && lower !== "none") {
      throw new TypeError(`sameSite of cookie ${name} is "Strict", "Lax" or "None", not ${JSON.stringify(sameSite)}`);
    }
    site = lower;
  }
  try {
    return stringifySetCookie(name, value, {
      maxAge: maxAge === undefined ? undefined : Math.max(0, Math.trunc(maxAge)),
      expires,
      path,
      domain,
      secure,
      httpOnly,
      sameSite: site,
    });
  } catch (error) {
    throw new TypeError(`cannot set cookie ${name}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The cookies of a `Cookie` header as a record (first value wins for a repeated name; values are
 * percent-decoded when they were encoded; malformed pairs are skipped, as browsers do). @internal
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (header === undefined || header === "") return out;
  const parsed = parseCookie(header);
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    if (value !== undefined && name !== "") out[name] = value;
  }
  return out;
}
