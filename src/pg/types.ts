/**
 * How column values arrive (text format, per connection, so node-postgres's global parsers stay as
 * the user left them): node-postgres's defaults (json/jsonb parsed, bytea → Buffer, timestamps and
 * dates → Date, numeric → string, int2/int4/float → number, bool → boolean), except int8, which
 * becomes `bigint`.
 *
 * Why bigint for int8: its values go past 2^53, where a `number` silently rounds, and a string
 * would hide that it is a number; asyncpg returns an exact Python int. `count(*)` and `bigserial`
 * ids are int8, so they come back as `5n`: write `Number(n)` where a number is wanted, or cast in
 * SQL (`count(*)::int`).
 * @module
 */
import pg from "pg";

const INT8 = 20;
const INT8_ARRAY = 1016;

type TextParser = (value: string) => unknown;

function builtin(oid: number, format: "text" | "binary"): TextParser {
  return pg.types.getTypeParser(oid, format) as TextParser;
}

function parseInt8Array(text: string): (bigint | null)[] {
  const items = builtin(INT8_ARRAY, "text")(text) as (string | number | null)[];
  return items.map((item) => (item === null ? null : BigInt(item)));
}

/** @internal the type parsers given to each client aiots/pg opens. */
export const typeParsers = {
  getTypeParser(oid: number, format?: "text" | "binary"): (value: string) => unknown {
    if (format !== "binary") {
      if (oid === INT8) return BigInt;
      if (oid === INT8_ARRAY) return parseInt8Array;
    }
    return builtin(oid, format ?? "text");
  },
};
