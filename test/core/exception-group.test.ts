/** ExceptionGroup#split and #subgroup: except* matching by class, classes or predicate, through nested groups. */
import assert from "node:assert/strict";
import test from "node:test";
import { ExceptionGroup } from "../../src/index.ts";

class AppError extends Error {}

function nested(): ExceptionGroup {
  return new ExceptionGroup("outer", [
    new TypeError("t1"),
    new ExceptionGroup("inner", [new RangeError("r1"), new TypeError("t2")]),
    new AppError("a1"),
  ]);
}

function leaves(group: ExceptionGroup | null): string[] {
  if (group === null) return [];
  return group.exceptions.flatMap((e) => (e instanceof ExceptionGroup ? leaves(e).map((m) => `${group.message}>${m}`) : [`${group.message}>${(e as Error).message}`]));
}

test("split(Class) matches by instanceof and recurses into nested groups, keeping the nesting", () => {
  const eg = nested();
  const [types, rest] = eg.split(TypeError);
  assert.deepEqual(leaves(types), ["outer>t1", "outer>inner>t2"]);
  assert.deepEqual(leaves(rest), ["outer>inner>r1", "outer>a1"]);
  assert.ok(types!.exceptions[1] instanceof ExceptionGroup, "the nested group is kept as a group");
  assert.equal(types!.message, "outer");
  assert.equal(types!.stack, eg.stack);
});

test("split(TypeError) does not match everything (the class is not called as a predicate)", () => {
  const eg = new ExceptionGroup("g", [new Error("plain"), new RangeError("range")]);
  const [match, rest] = eg.split(TypeError);
  assert.equal(match, null);
  assert.equal(rest, eg);
  assert.equal(eg.subgroup(TypeError), null);
});

test("split([A, B]) matches any of the classes; a user-defined class works", () => {
  const [match, rest] = nested().split([RangeError, AppError]);
  assert.deepEqual(leaves(match), ["outer>inner>r1", "outer>a1"]);
  assert.deepEqual(leaves(rest), ["outer>t1", "outer>inner>t2"]);
  assert.deepEqual(leaves(nested().subgroup(AppError)), ["outer>a1"]);
});

test("split(predicate) is called with leaves and groups; a group that matches as a whole is kept intact", () => {
  const eg = nested();
  const [byMessage] = eg.split((e) => e instanceof Error && e.message.startsWith("t"));
  assert.deepEqual(leaves(byMessage), ["outer>t1", "outer>inner>t2"]);
  const [innerWhole, rest] = eg.split((e) => e instanceof ExceptionGroup && e.message === "inner");
  assert.deepEqual(leaves(innerWhole), ["outer>inner>r1", "outer>inner>t2"]);
  assert.equal(innerWhole!.exceptions[0], eg.exceptions[1], "the matching nested group itself");
  assert.deepEqual(leaves(rest), ["outer>t1", "outer>a1"]);
  // A function declared with `function` is a predicate, not a class.
  const [all] = eg.split(function (e) {
    return e instanceof Error;
  });
  assert.equal(all, eg);
  assert.equal(eg.split(Error)[0], eg, "the group is an Error itself, as in Python where split(Exception) takes it whole");
});

test("split keeps the cause; bad conditions get a clear TypeError", () => {
  const cause = new Error("why");
  const eg = new ExceptionGroup("g", [new TypeError("t"), new RangeError("r")]);
  (eg as { cause?: unknown }).cause = cause;
  const [m, r] = eg.split(TypeError);
  assert.equal((m as { cause?: unknown }).cause, cause);
  assert.equal((r as { cause?: unknown }).cause, cause);
  assert.throws(() => eg.split("TypeError" as never), /error class, an array of classes or a predicate/);
  assert.throws(() => eg.split([TypeError, 3] as never), /must hold error classes/);
});
