/**
 * Names `getaddrinfo` understands besides numbers: service names (`"http"` → 80) and the canonical
 * name of a host (`AI_CANONNAME`). Node's resolver API has neither (`dns.lookup` takes no service
 * and gives no canonical name), so they are looked up here the way the C library does.
 *
 * How it works: service names come from `/etc/services` (`name port/proto aliases...`), read once
 * and cached, with a built-in table of the common names for systems without the file. The
 * canonical name of an IP literal is itself; of a name listed in `/etc/hosts`, the first name on
 * its line (glibc's answer); otherwise the end of its DNS CNAME chain, or the name itself when it
 * has none.
 * @module
 */
import * as dns from "node:dns";
import * as net from "node:net";
import { readFile } from "node:fs/promises";

/**
 * `getaddrinfo` flag asking for the host's canonical name in the first result (socket.AI_CANONNAME,
 * the same value as on Linux). The other bits of `flags` are Node's `dns.lookup` hints
 * (`dns.ADDRCONFIG`, `dns.V4MAPPED`, `dns.ALL`).
 * @example
 * ```ts
 * import { run, getRunningLoop, AI_CANONNAME } from "aiots";
 * await run(async () => {
 *   const [first] = await getRunningLoop().getaddrinfo("localhost", "http", { flags: AI_CANONNAME });
 *   const [, , , canonname, [address, port]] = first!;
 *   console.log(canonname, address, port); // localhost 127.0.0.1 80
 * });
 * ```
 */
export const AI_CANONNAME = 2;

// The common services, for systems without /etc/services: [name, tcp port, udp port].
const BUILT_IN: readonly [string, number | null, number | null][] = [
  ["echo", 7, 7], ["discard", 9, 9], ["daytime", 13, 13], ["ftp-data", 20, null], ["ftp", 21, null],
  ["ssh", 22, null], ["telnet", 23, null], ["smtp", 25, null], ["time", 37, 37], ["domain", 53, 53],
  ["tftp", null, 69], ["gopher", 70, null], ["finger", 79, null], ["http", 80, null], ["www", 80, null],
  ["kerberos", 88, 88], ["pop3", 110, null], ["sunrpc", 111, 111], ["auth", 113, null], ["nntp", 119, null],
  ["ntp", null, 123], ["imap", 143, null], ["imap2", 143, null], ["snmp", 161, 161], ["ldap", 389, 389],
  ["https", 443, 443], ["microsoft-ds", 445, null], ["submissions", 465, null], ["syslog", null, 514],
  ["submission", 587, null], ["ipp", 631, null], ["ldaps", 636, 636], ["rsync", 873, null], ["ftps", 990, null],
  ["imaps", 993, null], ["pop3s", 995, null], ["socks", 1080, null], ["openvpn", 1194, 1194],
  ["ms-sql-s", 1433, null], ["mqtt", 1883, null], ["nfs", 2049, 2049], ["mysql", 3306, null],
  ["postgresql", 5432, null], ["amqp", 5672, null], ["x11", 6000, null], ["http-alt", 8080, null],
];

type Protocol = "tcp" | "udp";
let services: Promise<Map<string, number>> | null = null;

function builtIn(): Map<string, number> {
  const map = new Map<string, number>();
  for (const [name, tcp, udp] of BUILT_IN) {
    if (tcp !== null) map.set(`${name}/tcp`, tcp);
    if (udp !== null) map.set(`${name}/udp`, udp);
  }
  return map;
}

/** Parses `/etc/services` text into `name/proto` → port (aliases included; first entry wins). */
export function parseServices(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const match = /^(\d+)\/(\w+)$/.exec(portProto ?? "");
    if (name === undefined || match === null) continue;
    const port = Number(match[1]);
    for (const n of [name, ...aliases]) {
      const key = `${n.toLowerCase()}/${match[2]!.toLowerCase()}`;
      if (!map.has(key)) map.set(key, port);
    }
  }
  return map;
}

function serviceTable(): Promise<Map<string, number>> {
  services ??= readFile("/etc/services", "utf8").then(
    (text) => {
      const parsed = parseServices(text);
      return parsed.size > 0 ? parsed : builtIn();
    },
    () => builtIn(),
  );
  return services;
}

/**
 * The port of `service`: a number, a numeric string, or a service name for `proto` (TCP unless the
 * socket type or protocol says UDP).
 * @throws {Error} (code `EAI_SERVICE`) for a name that is not a known service.
 * @throws {TypeError} for a port that is not an integer from 0 to 65535.
 */
export async function servicePort(service: number | string | null, options: { type?: number; proto?: number } = {}): Promise<number> {
  if (service === null) return 0;
  if (typeof service === "number") {
    if (!Number.isInteger(service) || service < 0 || service > 65535) throw new TypeError(`getaddrinfo() takes a port from 0 to 65535, got ${service}`);
    return service;
  }
  if (typeof service !== "string") throw new TypeError(`getaddrinfo() takes a port number or a service name such as "http", got ${typeof service}`);
  const text = service.trim();
  if (/^\d+$/.test(text)) return servicePort(Number(text));
  // SOCK_DGRAM (2) or IPPROTO_UDP (17): the UDP entry; anything else, TCP.
  const proto: Protocol = options.type === 2 || options.proto === 17 ? "udp" : "tcp";
  const table = await serviceTable();
  const port = table.get(`${text.toLowerCase()}/${proto}`);
  if (port === undefined) {
    throw Object.assign(new Error(`getaddrinfo(): unknown service "${service}" for ${proto} (not in /etc/services): pass a port number, or a name such as "http"`), {
      code: "EAI_SERVICE",
    });
  }
  return port;
}

let hostsLines: Promise<string[][]> | null = null;

function hostsTable(): Promise<string[][]> {
  // Read once per process, as the C library caches it between calls.
  hostsLines ??= readFile("/etc/hosts", "utf8").then(
    (text) =>
      text
        .split("\n")
        .map((line) => line.replace(/#.*/, "").trim().split(/\s+/).slice(1))
        .filter((names) => names.length > 0),
    () => [],
  );
  return hostsLines;
}

/** The canonical name of `host`, as `getaddrinfo` with AI_CANONNAME reports it. */
export async function canonicalName(host: string): Promise<string> {
  if (net.isIP(host) !== 0) return host;
  const lower = host.toLowerCase();
  for (const names of await hostsTable()) {
    if (names.some((n) => n.toLowerCase() === lower)) return names[0]!;
  }
  let name = host;
  for (let hop = 0; hop < 8; hop++) {
    const targets = await new Promise<string[]>((resolve) => {
      dns.resolveCname(name, (error, found) => resolve(error ? [] : found));
    });
    if (targets.length === 0) break;
    name = targets[0]!;
  }
  return name;
}
