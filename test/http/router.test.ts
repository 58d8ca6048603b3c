import { test } from "node:test";
import assert from "node:assert/strict";
import { Router } from "../../src/http.ts";

void test("static, :param and *rest routes; first match in registration order wins", () => {
  const r = new Router<string>();
  r.add("GET", "/users/me", "me");
  r.add("GET", "/users/:id", "user");
  r.add("POST", "/users/:id", "update");
  r.add("GET", "/files/*path", "file");
  r.add("*", "/any", "any");
  assert.deepEqual(r.resolve("GET", "/users/me"), { kind: "found", handler: "me", params: {}, pattern: "/users/me" });
  assert.deepEqual(r.resolve("GET", "/users/42"), { kind: "found", handler: "user", params: { id: "42" }, pattern: "/users/:id" });
  assert.equal((r.resolve("POST", "/users/42") as { handler: string }).handler, "update");
  assert.deepEqual((r.resolve("GET", "/files/a/b.txt") as { params: object }).params, { path: "a/b.txt" });
  assert.equal((r.resolve("DELETE", "/any") as { handler: string }).handler, "any");
  assert.equal((r.resolve("HEAD", "/users/7") as { handler: string }).handler, "user");
  assert.deepEqual(r.resolve("DELETE", "/users/42"), { kind: "method-not-allowed", allow: ["GET", "HEAD", "POST"] });
  assert.deepEqual(r.resolve("GET", "/nope"), { kind: "not-found" });
  assert.deepEqual(r.resolve("GET", "/users/42/extra"), { kind: "not-found" });
});

void test("a parameter route registered before a static one keeps precedence", () => {
  const r = new Router<string>();
  r.add("GET", "/a/:x", "param");
  r.add("GET", "/a/b", "static");
  assert.equal((r.resolve("GET", "/a/b") as { handler: string }).handler, "param");
  const s = new Router<string>();
  s.add("GET", "/a/b", "static");
  s.add("GET", "/a/:x", "param");
  assert.equal((s.resolve("GET", "/a/b") as { handler: string }).handler, "static");
  assert.equal((s.resolve("GET", "/a/b/") as { handler: string }).handler, "static");
});

void test("bad patterns are refused with clear errors", () => {
  const r = new Router<string>();
  assert.throws(() => r.add("GET", "users", "x"), /starts with "\//);
  assert.throws(() => r.add("G ET", "/x", "x"), /method is a word/);
  assert.throws(() => r.add("GET", "/*rest/more", "x"), /must come last/);
  r.add("GET", "/a", "a");
  assert.equal(String(r), "<Router GET /a>");
});
