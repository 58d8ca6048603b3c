/**
 * `user` and `group` of a subprocess, by name or id, turned into the numeric ids Node's `spawn`
 * takes. Names are looked up in `/etc/passwd` and `/etc/group`, as `getpwnam`/`getgrnam` read the
 * local files (Node has no binding for them); a numeric string or a number is taken as an id.
 */
import { readFileSync } from "node:fs";

function idFromFile(file: string, name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 3) {
      const id = Number(fields[2]);
      if (Number.isInteger(id) && id >= 0) return id;
    }
  }
  return undefined;
}

/**
 * The numeric id of `value` (a user for `kind` "user", a group for "group"), or undefined when not given.
 * @throws {TypeError} for a value that is neither a name nor an integer id >= 0.
 * @throws {Error} (code `ENOENT`) for a name the system does not know.
 */
export function resolveId(what: string, kind: "user" | "group", value: string | number | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" || /^\d+$/.test(String(value))) {
    const id = Number(value);
    if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`${what}: ${kind} must be a name or an id >= 0, got ${String(value)}`);
    return id;
  }
  if (typeof value !== "string" || value === "") throw new TypeError(`${what}: ${kind} must be a name or an id >= 0, got ${typeof value === "string" ? '""' : typeof value}`);
  const file = kind === "user" ? "/etc/passwd" : "/etc/group";
  const id = idFromFile(file, value);
  if (id === undefined) {
    throw Object.assign(new Error(`${what}: no ${kind} named "${value}" in ${file}; pass a numeric id, or a name that exists`), { code: "ENOENT" });
  }
  return id;
}
