import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { CIMultiDict } from "../../src/http.ts";
import { forEachHeader, headersFromRaw } from "../../src/http/headers.ts";

void test("every method and index access ignore the name's case; one name set in two cases is one header", () => {
  const h = new CIMultiDict({ "content-type": "text/plain" });
  h["Content-Type"] = "application/json";
  assert.equal(h.size, 1);
  assert.equal(h["content-type"], "application/json");
  assert.equal(h["CONTENT-TYPE"], "application/json");
  assert.equal(h.get("Content-type"), "application/json");
  assert.equal(h.has("CONTENT-TYPE"), true);
  assert.equal("Content-Type" in h, true);
  assert.equal("x-missing" in h, false);
  assert.equal(h["x-missing"], undefined);
  assert.equal(h.get("x-missing", "fallback"), "fallback");
  h.set("X-Id", "1");
  h.set("x-id", 2);
  assert.deepEqual(h.getAll("X-ID"), ["2"]);
  assert.deepEqual([...h], [["Content-Type", "application/json"], ["x-id", "2"]], "the name goes out as last spelled");
  assert.equal(h.delete("X-ID"), true);
  assert.equal(h.delete("X-ID"), false);
  h.Etag = '"abc"';
  assert.equal(delete h.ETAG, true);
  assert.equal(h.has("etag"), false);
});

void test("append keeps several values in order; index access reads the first and assigning replaces all", () => {
  const h = new CIMultiDict();
  h.append("Set-Cookie", "a=1").append("set-cookie", "b=2");
  assert.deepEqual(h.getAll("SET-COOKIE"), ["a=1", "b=2"]);
  assert.equal(h["set-cookie"], "a=1");
  assert.equal(h.size, 2);
  assert.deepEqual([...h.keys()], ["Set-Cookie", "Set-Cookie"]);
  assert.deepEqual([...h.values()], ["a=1", "b=2"]);
  assert.deepEqual(h.flat(), ["Set-Cookie", "a=1", "Set-Cookie", "b=2"]);
  assert.deepEqual(h.toJSON(), { "set-cookie": ["a=1", "b=2"] });
  h["set-cookie"] = "c=3";
  assert.deepEqual(h.getAll("Set-Cookie"), ["c=3"]);
  assert.equal(h.setDefault("SET-COOKIE", "d=4"), "c=3");
  assert.equal(h.setDefault("vary", "accept"), "accept");
  const seen: string[] = [];
  h.forEach((value, name) => seen.push(`${name}=${value}`));
  assert.deepEqual(seen, ["set-cookie=c=3", "vary=accept"]);
});

void test("construction from records (with arrays), pairs and another dict; copies are independent", () => {
  const fromRecord = new CIMultiDict({ A: "1", b: ["2", "3"], c: 4, skipped: undefined });
  assert.deepEqual(fromRecord.flat(), ["A", "1", "b", "2", "b", "3", "c", "4"]);
  const fromPairs = new CIMultiDict([["x", "1"], ["X", "2"]]);
  assert.deepEqual(fromPairs.getAll("x"), ["1", "2"]);
  const copy = new CIMultiDict(fromPairs);
  copy.append("x", "3");
  assert.deepEqual(fromPairs.getAll("x"), ["1", "2"]);
  assert.deepEqual(copy.getAll("X"), ["1", "2", "3"]);
  const copy2 = copy.copy();
  copy2.clear();
  assert.equal(copy.size, 3);
  assert.equal(copy2.size, 0);
  assert.ok(copy2 instanceof CIMultiDict);
  assert.throws(() => new CIMultiDict([["only-name"]] as unknown as [string, string][]), /\[name, value\] pairs/);
});

void test("object views: keys, entries, spread and JSON see the headers; the dict is never a thenable", async () => {
  const h = new CIMultiDict({ "Content-Type": "text/html", "x-a": "1" });
  assert.deepEqual(Object.keys(h), ["Content-Type", "x-a"]);
  assert.deepEqual(Object.entries(h), [["Content-Type", "text/html"], ["x-a", "1"]]);
  assert.deepEqual({ ...h }, { "Content-Type": "text/html", "x-a": "1" });
  assert.equal(JSON.stringify(h), '{"content-type":"text/html","x-a":"1"}');
  assert.equal(Object.getOwnPropertyDescriptor(h, "CONTENT-TYPE")?.value, "text/html");
  Object.defineProperty(h, "X-B", { value: "2", enumerable: true, configurable: true, writable: true });
  assert.equal(h.get("x-b"), "2");
  // A header called "then" must not turn the dict into a promise-like value.
  h.set("then", "x");
  const awaited = await Promise.resolve(h);
  assert.equal(awaited, h);
  assert.equal(h.get("then"), "x");
  // Methods win over headers of the same name.
  h.set("get", "value");
  assert.equal(typeof h.get, "function");
  assert.equal(h.get("get"), "value");
  assert.match(inspect(h), /^<CIMultiDict\(Content-Type: "text\/html", x-a: "1", X-B: "2", then: "x", get: "value"\)>$/);
});

void test("bad names and values are refused where they are set, with a clear error", () => {
  const h = new CIMultiDict();
  assert.throws(() => h.set("bad name", "x"), /invalid header name "bad name"/);
  assert.throws(() => (h["x:y"] = "x"), /invalid header name/);
  assert.throws(() => h.set("x-a", "a\r\nInjected: 1"), /CR, LF or NUL/);
  assert.throws(() => h.append("x-a", "nul\0"), /CR, LF or NUL/);
  assert.throws(() => h.set("x-a", {} as unknown as string), /must be a string/);
  assert.throws(() => new CIMultiDict({ "a b": "1" }), /invalid header name/);
  assert.equal(h.size, 0);
  h["x-a"] = undefined as unknown as string;
  assert.equal(h.has("x-a"), false);
});

void test("internal helpers: from Node's rawHeaders, and a direct walk for the write path", () => {
  const h = headersFromRaw(["Host", "a", "User-Agent", "curl", "accept", "1", "Accept", "2"]);
  assert.equal(h["user-agent"], "curl");
  assert.equal(h["User-Agent"], "curl");
  assert.deepEqual(h.getAll("ACCEPT"), ["1", "2"]);
  const walked: string[] = [];
  forEachHeader(h, (name, values, key) => walked.push(`${key}|${name}|${values.join(",")}`));
  assert.deepEqual(walked, ["host|Host|a", "user-agent|User-Agent|curl", "accept|accept|1,2"]);
});
