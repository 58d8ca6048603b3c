// The benchmark harness (bench/harness): statistics, peer processes (missing, failed, rotated
// order), and the generated report. Peers here are tiny `node -e` scripts, so the file runs fast.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import type { BenchCase } from "../../bench/suite.ts";
import { logTicks, ratioBarChart, scalingLineChart } from "../../bench/harness/charts.ts";
import { processCpuSeconds, runMeasured } from "../../bench/harness/measure.ts";
import { clientBound, renderReport } from "../../bench/harness/report.ts";
import { loadMark, waitForQuiet } from "../../bench/harness/load.ts";
import { pickLatest, type PeerResult, type Sample, type SuiteResult } from "../../bench/harness/results.ts";
import { absentPrerequisite, parseReport, runCase, suiteProblems } from "../../bench/harness/runner.ts";
import { costRatio, median, roundOrder, summarise } from "../../bench/harness/stats.ts";

const node = process.execPath;

/** Whether `pid` is a live process (a zombie awaiting reaping by init counts as ended). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
const quiet = { log: () => {} };

/** A peer that reports `value` and appends its name to `logFile` (to observe the run order). */
function fakePeer(name: string, value: number, logFile: string): string[] {
  const script = `require("fs").appendFileSync(${JSON.stringify(logFile)}, ${JSON.stringify(name + "\n")});` +
    `console.log("noise"); console.log(JSON.stringify({ value: ${value}, heapBytes: 1024, extra: { serverCpu: 0.5 } }));`;
  return [node, "-e", script];
}

void describe("stats", () => {
  void it("median of odd and even counts, empty is NaN", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  void it("summarise ignores non-finite values and returns null when nothing is left", () => {
    assert.deepEqual(summarise([5, Number.NaN, 1, 9]), { n: 3, median: 5, min: 1, max: 9 });
    assert.equal(summarise([Number.NaN]), null);
  });

  void it("costRatio reads the same way for durations and throughput", () => {
    assert.equal(costRatio(300, 100, true), 3); // 3x the time: 3x the cost
    assert.equal(costRatio(50, 100, false), 2); // half the req/s: twice the cost
    assert.ok(Number.isNaN(costRatio(1, 0, true)));
  });

  void it("roundOrder rotates so each peer takes each position", () => {
    assert.deepEqual([0, 1, 2].map((r) => roundOrder(["a", "b", "c"], r)), [
      ["a", "b", "c"],
      ["b", "c", "a"],
      ["c", "a", "b"],
    ]);
    assert.deepEqual(roundOrder([], 3), []);
  });
});

void describe("peer processes", () => {
  void it("parseReport reads the last stdout line and rejects anything without a numeric value", () => {
    assert.deepEqual(parseReport('hello\n{"value": 12.5, "rssBytes": 7}\n'), { value: 12.5, rssBytes: 7 });
    assert.equal(parseReport('{"value": 1}\ntrailing text'), null);
    assert.equal(parseReport('{"value": "fast"}'), null);
    assert.equal(parseReport(""), null);
  });

  void it("suiteProblems explains a malformed suite", () => {
    const bad = {
      name: "bad",
      description: "",
      cases: [{ name: "c", unit: "seconds", lowerIsBetter: true, baseline: "raw", peers: { aiots: { command: [] } } }],
    } as unknown as Parameters<typeof suiteProblems>[0];
    const problems = suiteProblems(bad).join("\n");
    assert.match(problems, /unit must be one of ms, req\/s, msg\/s, ops\/s, MB, bytes, got "seconds"/);
    assert.match(problems, /baseline "raw" is not one of its peers \(aiots\)/);
    assert.match(problems, /peer "aiots" needs command/);
  });

  void it("absentPrerequisite names the missing program or needed file", () => {
    assert.equal(absentPrerequisite({ command: [node, "-e", "0"] }), null);
    assert.match(absentPrerequisite({ command: ["no-such-program-aiots"] }) ?? "", /program not found: no-such-program-aiots/);
    assert.match(absentPrerequisite({ command: [node], needs: ["bench/.build/nope/client"] }) ?? "", /file not found/);
  });

  void it("runs a warm-up then rotated rounds, and reports missing and failed peers", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aiots-bench-"));
    try {
      const logFile = path.join(dir, "order.log");
      const c: BenchCase = {
        name: "fake",
        unit: "ms",
        lowerIsBetter: true,
        baseline: "raw",
        repetitions: { full: 3, quick: 2 },
        peers: {
          raw: { command: fakePeer("raw", 100, logFile) },
          aiots: { command: fakePeer("aiots", 150, logFile) },
          absent: { command: ["no-such-program-aiots"], requires: "apt-get install nothing" },
          noModule: { command: [node, "-e", "process.stderr.write(\"ModuleNotFoundError: No module named 'uvloop'\\n\"); process.exit(1)"] },
          crashes: { command: [node, "-e", "throw new Error('boom')"] },
        },
      };
      const r = await runCase(c, { quick: false, repetitions: 2, ...quiet });
      // warm-up (raw, aiots), then round 1 (raw, aiots) and round 2 rotated (aiots, raw)
      assert.deepEqual(readFileSync(logFile, "utf8").trim().split("\n"), ["raw", "aiots", "raw", "aiots", "aiots", "raw"]);
      assert.equal(r.repetitions, 2);
      assert.equal(r.peers.raw!.samples.length, 2);
      assert.deepEqual(r.peers.aiots!.stats, { n: 2, median: 150, min: 150, max: 150 });
      assert.equal(r.peers.aiots!.ratio, 1.5);
      assert.equal(r.peers.aiots!.samples[0]!.heapBytes, 1024);
      assert.deepEqual(r.peers.aiots!.samples[0]!.extra, { serverCpu: 0.5 });
      assert.equal(r.peers.absent!.status, "missing");
      assert.equal(r.peers.absent!.requires, "apt-get install nothing");
      assert.equal(r.peers.noModule!.status, "missing");
      assert.match(r.peers.noModule!.reason ?? "", /No module named 'uvloop'/);
      assert.equal(r.peers.crashes!.status, "failed");
      assert.match(r.peers.crashes!.reason ?? "", /boom/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("quick mode: no warm-up, and a missing library found on the first sample stops that peer", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aiots-bench-"));
    try {
      const logFile = path.join(dir, "order.log");
      const noModule = `require("fs").appendFileSync(${JSON.stringify(logFile)}, "noModule\\n");` +
        `process.stderr.write("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'effection'\\n"); process.exit(1)`;
      const c: BenchCase = {
        name: "quick",
        unit: "ms",
        lowerIsBetter: true,
        baseline: "raw",
        peers: { raw: { command: fakePeer("raw", 10, logFile) }, noModule: { command: [node, "-e", noModule] } },
      };
      const r = await runCase(c, { quick: true, ...quiet });
      assert.equal(r.repetitions, 1); // the interface's default for --quick
      const again = await runCase(c, { quick: true, repetitions: 3, ...quiet });
      assert.equal(again.peers.raw!.samples.length, 3);
      // quick: one sample, no warm-up; then 3 rounds where noModule runs only until found missing
      assert.deepEqual(readFileSync(logFile, "utf8").trim().split("\n"), ["raw", "noModule", "raw", "noModule", "raw", "raw"]);
      assert.equal(r.peers.noModule!.status, "missing");
      assert.match(r.peers.noModule!.reason ?? "", /Cannot find package 'effection'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("a case with warmup: false runs no warm-up process in full mode", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aiots-bench-"));
    try {
      const logFile = path.join(dir, "order.log");
      const c: BenchCase = { name: "w", unit: "ms", lowerIsBetter: true, baseline: "a", warmup: false, peers: { a: { command: fakePeer("a", 1, logFile) } } };
      const r = await runCase(c, { quick: false, repetitions: 2, ...quiet });
      assert.equal(readFileSync(logFile, "utf8"), "a\na\n");
      assert.equal(r.peers.a!.warmup, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("skips full-only cases in quick mode and appends quickArgs", async () => {
    const echoArg = [node, "-e", "console.log(JSON.stringify({ value: Number(process.argv[1]) }))"];
    const c: BenchCase = {
      name: "args",
      unit: "ops/s",
      lowerIsBetter: false,
      baseline: "a",
      quickArgs: ["42"],
      peers: { a: { command: echoArg } },
    };
    const quick = await runCase(c, { quick: true, repetitions: 1, ...quiet });
    assert.equal(quick.peers.a!.stats?.median, 42);
    const skipped = await runCase({ ...c, fullOnly: true }, { quick: true, ...quiet });
    assert.equal(skipped.peers.a!.status, "skipped");
    assert.equal(skipped.peers.a!.samples.length, 0);
    const onePeer = await runCase({ ...c, peers: { a: { command: echoArg }, slow: { command: echoArg, fullOnly: true } } }, { quick: true, ...quiet });
    assert.equal(onePeer.peers.a!.status, "ok");
    assert.equal(onePeer.peers.slow!.status, "skipped");
  });

  void it("ends whatever a peer left running (its process group) when it exits", async () => {
    const script = `const c = require("child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });` +
      `c.unref(); console.log(JSON.stringify({ value: 1, extra: { orphan: c.pid } }))`;
    const c: BenchCase = { name: "orphan", unit: "ms", lowerIsBetter: true, baseline: "a", peers: { a: { command: [node, "-e", script] } } };
    const r = await runCase(c, { quick: true, repetitions: 1, ...quiet });
    const orphan = r.peers.a!.samples[0]!.extra!.orphan as number;
    assert.ok(Number.isInteger(orphan));
    await new Promise((resolve) => setTimeout(resolve, 200)); // SIGKILL is delivered asynchronously
    assert.equal(isRunning(orphan), false);
  });

  void it("kills a sample that runs past the timeout", async () => {
    const c: BenchCase = {
      name: "hangs",
      unit: "ms",
      lowerIsBetter: true,
      baseline: "a",
      timeoutSeconds: 0.5,
      peers: { a: { command: [node, "-e", "setInterval(() => {}, 1000)"] } },
    };
    const r = await runCase(c, { quick: true, repetitions: 1, ...quiet });
    assert.equal(r.peers.a!.status, "failed");
    assert.match(r.peers.a!.reason ?? "", /timed out/);
  });
});

void describe("report", () => {
  const result: SuiteResult = {
    suite: "demo",
    description: "A demo suite.",
    mode: "quick",
    startedAt: "2026-11-24T15:50:00.000Z",
    finishedAt: "2026-11-24T15:51:00.000Z",
    machine: { cpuModel: "Test CPU", cores: 2, totalMemBytes: 2 ** 32, os: "Linux", loadAverageAtStart: [0] },
    versions: { node: "v24.0.0", python: "3.11.2" },
    cases: [
      {
        name: "echo 1 KiB",
        unit: "req/s",
        lowerIsBetter: false,
        baseline: "raw",
        target: "aiots >= 0.8x raw",
        repetitions: 1,
        peers: {
          raw: { status: "ok", command: [], samples: [{ value: 100_000, wallMs: 1000 }], errors: [], stats: { n: 1, median: 100_000, min: 100_000, max: 100_000 } },
          aiots: {
            status: "ok",
            command: [],
            samples: [{ value: 80_000, wallMs: 1000, cpuUserSec: 1.5, cpuSysSec: 0.5, extra: { clientCpu: 0.9 } }],
            errors: [],
            stats: { n: 1, median: 80_000, min: 80_000, max: 80_000 },
            ratio: 1.25,
          },
          asyncio: { status: "ok", command: [], anchor: 50_000, samples: [{ value: 30_000, wallMs: 1000 }], errors: [], stats: { n: 1, median: 30_000, min: 30_000, max: 30_000 } },
          uvloop: { status: "missing", reason: "No module named 'uvloop'", requires: "apt-get install python3-uvloop", command: [], samples: [], errors: [], stats: null },
        },
        scaling: { series: "conns", x: 10, xLabel: "connections" },
      },
    ],
  };

  void it("has a table row per peer, with ratios, CPU, extras and the missing peer's hint", () => {
    const { markdown, charts } = renderReport([result]);
    assert.match(markdown, /\| \*\*echo 1 KiB\*\*<br>req\/s, higher is better, 1 sample<br>target: aiots >= 0.8x raw \| raw \| 100.0k \|/);
    assert.match(markdown, /\| aiots \| 80.0k \| 80.0k – 80.0k \| \*\*1.25×\*\* \| 2.00 s \(200%\) \|.*clientCpu 0.9/);
    assert.match(markdown, /missing: No module named 'uvloop' \(requires: apt-get install python3-uvloop\)/);
    assert.match(markdown, /!\[[^\]]*\]\(bench\/charts\/demo\.svg\)/);
    assert.deepEqual([...charts.keys()].sort(), ["demo-conns.svg", "demo.svg", "headline.svg"]);
    for (const svg of charts.values()) assert.match(svg, /^<svg [^>]*>[\s\S]*<\/svg>$/);
    assert.match(charts.get("demo.svg")!, /1\.25×/);
  });

  void it("checks peers against their ANCHORS.md figures and flags those outside the noise", () => {
    const { markdown } = renderReport([result]);
    assert.match(markdown, /## Anchors reproduced/);
    assert.match(markdown, /0 of 1 within ±20%/);
    assert.match(markdown, /\| demo \| echo 1 KiB \| asyncio \| 50.0k req\/s \| 30.0k req\/s \| -40% ⚠ \|/);
  });

  void it("does not compare a --quick workload (quickArgs applied) with ANCHORS.md", () => {
    const quick: SuiteResult = { ...result, cases: result.cases.map((c) => ({ ...c, extraArgs: ["1000"] })) };
    assert.doesNotMatch(renderReport([quick]).markdown, /Anchors reproduced/);
  });

  void it("flags a figure whose load client used nearly the server's CPU", () => {
    const sample = (clientCpu: number): Sample => ({ value: 1, wallMs: 1, extra: { clientCpu, serverCpu: 1 } });
    assert.match(clientBound([sample(0.9)]), /client CPU 90% of the server's: possibly client-bound/);
    assert.equal(clientBound([sample(0.3)]), "");
    assert.equal(clientBound([{ value: 1, wallMs: 1 }]), "");
  });

  void it("the headline compares every aiots variant with raw Node, even where aiots is the case's baseline", () => {
    const ok = (v: number): PeerResult => ({ status: "ok", command: [], samples: [{ value: v, wallMs: 1 }], errors: [], stats: { n: 1, median: v, min: v, max: v } });
    const debug: SuiteResult = {
      ...result,
      suite: "debug",
      cases: [{ name: "spawn", unit: "ms", lowerIsBetter: true, baseline: "aiots", repetitions: 1, peers: { aiots: ok(100), "aiots, debug on": ok(200), "raw Node": ok(50) } }],
    };
    const headline = renderReport([debug]).charts.get("headline.svg")!;
    assert.match(headline, /debug: spawn \(vs raw Node\)</);
    assert.match(headline, />aiots</);
    assert.match(headline, />2\.00×</);
    assert.match(headline, />4\.00×</);
  });

  void it("the headline puts aiots beside asyncio and uvloop against raw Node, chart and table", () => {
    const { markdown, charts } = renderReport([result]);
    const headline = charts.get("headline.svg")!;
    assert.match(headline, /demo: echo 1 KiB \(vs raw\)</);
    assert.match(headline, />1\.25×</); // aiots: 100k / 80k
    assert.match(headline, />3\.33×</); // asyncio: 100k / 30k
    assert.match(headline, />missing</); // uvloop
    assert.match(markdown, /\| demo \| echo 1 KiB \| req\/s \| 80\.0k \| 30\.0k \| missing \| 100\.0k \(raw\) \| 1\.25× \| — \|/);
  });

  void it("marks a suite measured under load (L) and says whether all suites come from one run", () => {
    const load = { threshold: 1.5, before: 3, atStart: 2.4, waitedSeconds: 180, underLoad: true };
    const loaded: SuiteResult = { ...result, mode: "full", runId: "2026-12-02T01:00:00.000Z", load };
    const other: SuiteResult = { ...loaded, suite: "other", load: { ...load, atStart: 0.7, waitedSeconds: 20, underLoad: false } };
    const md = renderReport([loaded, other]).markdown;
    assert.match(md, /Every suite below comes from one full run \(started 2026-12-02 01:00 UTC\)/);
    assert.match(md, /Measured under load \(L\)[^\n]*: demo \(2\.4\)/);
    assert.match(md, /\| \[demo\]\(#demo\) \| [^|]*load 2\.4 \*\*\(L\)\*\*, after waiting 180 s/);
    assert.match(md, /\*\*measured under load \(L\): 1-minute load average 2\.4 >= 1\.5 after waiting 180 s\*\*/);
    assert.match(md, /load 0\.7 \(waited 20 s for it\)/);
    const mixed = renderReport([loaded, { ...other, runId: "2026-12-01T00:00:00.000Z" }]).markdown;
    assert.match(mixed, /come from 2 separate runs/);
  });

  void it("the report prefers a suite's newest full run over a later --quick one", () => {
    const full: SuiteResult = { ...result, mode: "full", startedAt: "2026-12-01T00:00:00.000Z" };
    const quick: SuiteResult = { ...result, mode: "quick", startedAt: "2026-12-02T00:00:00.000Z" };
    const newer: SuiteResult = { ...full, startedAt: "2026-12-01T05:00:00.000Z" };
    assert.deepEqual(pickLatest([quick, full, newer]), [newer]);
    assert.deepEqual(pickLatest([quick]), [quick]);
  });

  void it("reports no results as such", () => {
    assert.match(renderReport([]).markdown, /No results yet/);
  });
});

void describe("charts", () => {
  void it("log ticks cover the range in 1-2-5 steps", () => {
    assert.deepEqual(logTicks(0.4, 3), [0.5, 1, 2]);
    assert.deepEqual(logTicks(1, 1000), [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  });

  void it("escapes labels and marks missing bars", () => {
    const svg = ratioBarChart("a <b>", "raw", [{ label: "x & y", bars: [{ peer: "p", ratio: null, note: "missing" }] }]);
    assert.match(svg, /a &lt;b&gt;/);
    assert.match(svg, /x &amp; y/);
    assert.match(svg, />missing</);
  });

  void it("a line chart without points says so", () => {
    assert.match(scalingLineChart("t", "x", "y", [{ peer: "p", points: [] }]), /no data/);
  });
});

void describe("load gate", () => {
  const fake = (readings: number[]): { read: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } => {
    const slept: number[] = [];
    let i = 0;
    return { read: () => readings[Math.min(i++, readings.length - 1)]!, sleep: async (ms) => void slept.push(ms), slept };
  };

  void it("starts at once on a quiet machine", async () => {
    const f = fake([0.4]);
    const load = await waitForQuiet({ read: f.read, sleep: f.sleep });
    assert.deepEqual(load, { threshold: 1.5, before: 0.4, atStart: 0.4, waitedSeconds: 0, underLoad: false });
    assert.deepEqual(f.slept, []);
    assert.equal(loadMark(load), "");
  });

  void it("waits for the load average to fall under the threshold", async () => {
    const f = fake([2.5, 2, 1.6, 1.2]);
    const lines: string[] = [];
    const load = await waitForQuiet({ read: f.read, sleep: f.sleep, pollSeconds: 5, log: (l) => lines.push(l) });
    assert.deepEqual(load, { threshold: 1.5, before: 2.5, atStart: 1.2, waitedSeconds: 15, underLoad: false });
    assert.deepEqual(f.slept, [5000, 5000, 5000]);
    assert.match(lines[0] ?? "", /load average 2\.5 >= 1\.5: waiting up to 180 s/);
  });

  void it("gives up after the bounded wait and marks the suite (L)", async () => {
    const f = fake([3]);
    const load = await waitForQuiet({ read: f.read, sleep: f.sleep, maxWaitSeconds: 12, pollSeconds: 5 });
    assert.deepEqual(f.slept, [5000, 5000, 2000]);
    assert.equal(load.underLoad, true);
    assert.equal(load.waitedSeconds, 12);
    assert.match(loadMark(load), /^measured under load \(L\): 1-minute load average 3 >= 1\.5 after waiting 12 s$/);
    const noWait = await waitForQuiet({ read: () => 2, sleep: f.sleep, maxWaitSeconds: 0 });
    assert.equal(noWait.underLoad, true);
    assert.equal(noWait.waitedSeconds, 0);
  });
});

void describe("measure (helpers for client/server peers)", () => {
  void it("runMeasured returns the output and the CPU of a client (NaN only without the wrapper)", async () => {
    const r = await runMeasured([node, "-e", "let x = 0; for (let i = 0; i < 5e7; i++) x += i; console.log('done')"]);
    assert.equal(r.stdout, "done\n");
    assert.ok(Number.isNaN(r.cpuSec) || r.cpuSec > 0, `cpuSec ${r.cpuSec}`);
  });

  void it("runMeasured rejects with the client's stderr when it fails", async () => {
    await assert.rejects(runMeasured([node, "-e", "console.error('bad port'); process.exit(3)"]), /bad port/);
  });

  void it("processCpuSeconds reads a live process and is NaN for a gone one", () => {
    let x = 0;
    for (let i = 0; i < 1e7; i++) x += i;
    assert.ok(x > 0 && processCpuSeconds(process.pid) > 0);
    assert.ok(Number.isNaN(processCpuSeconds(2 ** 30)));
  });
});
