/** Subprocess options for supervision: startNewSession, processGroup, user, group (Popen's names). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { PIPE, createSubprocessExec, createSubprocessShell, run, sleep } from "../../src/index.ts";

/** [pid, pgrp, session] of a process, from /proc/<pid>/stat. */
function ids(statLine: string): [number, number, number] {
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const after = statLine.slice(statLine.lastIndexOf(")") + 2).split(" ");
  return [Number(statLine.split(" ")[0]), Number(after[2]), Number(after[3])];
}

/** The live (not zombie) processes whose process group is `pgrp`. */
function groupMembers(pgrp: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    if (ids(stat)[1] === pgrp && state !== "Z") found.push(Number(entry));
  }
  return found;
}

const own = ids(readFileSync("/proc/self/stat", "utf8"));

void test("startNewSession and processGroup: 0 make the child lead its own group and session; by default it shares ours", async () => {
  await run(async () => {
    for (const [options, leads] of [[{}, false], [{ startNewSession: true }, true], [{ processGroup: 0 }, true]] as const) {
      const proc = await createSubprocessExec("cat", ["/proc/self/stat"], { stdout: PIPE, ...options });
      const [out] = await proc.communicate();
      const [pid, pgrp, session] = ids(out!.toString());
      assert.equal(pid, proc.pid);
      if (leads) {
        assert.equal(pgrp, proc.pid, JSON.stringify(options));
        assert.equal(session, proc.pid, JSON.stringify(options));
      } else {
        assert.equal(pgrp, own[1]);
        assert.equal(session, own[2]);
      }
    }
  });
});

void test("processGroup: 0 lets one signal end the whole process tree", async () => {
  await run(async () => {
    const proc = await createSubprocessShell("sleep 30 & sleep 30 & echo started; wait", { stdout: PIPE, processGroup: 0 });
    assert.equal((await proc.stdout!.readLine()).toString(), "started\n");
    assert.ok(groupMembers(proc.pid).length >= 3, "the shell and its two sleeps are in the child's group");
    process.kill(-proc.pid, "SIGTERM");
    assert.equal(await proc.wait(), -15);
    // The grandchildren were in the group too: none is left.
    let left = groupMembers(proc.pid);
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await sleep(0.02);
      left = groupMembers(proc.pid);
    }
    assert.deepEqual(left, []);
  });
});

void test("processGroup > 0 and bad values are refused with a clear error", async () => {
  await run(async () => {
    await assert.rejects(createSubprocessExec("true", [], { processGroup: 1 }), /cannot join an existing process group; use processGroup: 0/);
    await assert.rejects(createSubprocessExec("true", [], { processGroup: -1 }), TypeError);
    await assert.rejects(createSubprocessExec("true", [], { startNewSession: "yes" as never }), TypeError);
    await assert.rejects(createSubprocessExec("true", [], { user: "no-such-user-aiots" }), /no user named "no-such-user-aiots" in \/etc\/passwd/);
    await assert.rejects(createSubprocessExec("true", [], { group: "no-such-group-aiots" }), /no group named "no-such-group-aiots" in \/etc\/group/);
    await assert.rejects(createSubprocessExec("true", [], { user: -5 }), TypeError);
  });
});

const nobody = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("nobody:"))?.split(":");
const isRoot = process.getuid?.() === 0;

void test("user and group, by name or id, set the child's uid and gid", { skip: !isRoot || nobody === undefined ? "needs root and a nobody user" : false }, async () => {
  await run(async () => {
    const [uid, gid] = [Number(nobody![2]), Number(nobody![3])];
    for (const options of [{ user: "nobody", group: gid }, { user: uid, group: String(gid) }]) {
      const proc = await createSubprocessShell("id -u; id -g", { stdout: PIPE, ...options });
      const [out] = await proc.communicate();
      assert.deepEqual(out!.toString().trim().split("\n").map(Number), [uid, gid], JSON.stringify(options));
    }
  });
});
