/**
 * `aiots ps PID` and `aiots pstree PID`: ask a process's inspection socket (see `inspection.ts`)
 * for its tasks and print them as a table or as the await tree.
 *
 * How the tree is drawn: a task's children are the tasks it awaits (directly or through gather,
 * shield, a task group or waitFor); the roots are the tasks nobody awaits. Tasks that only await
 * each other in a ring are not reachable from a root: they are found by a depth-first search and
 * reported as cycles (a deadlock), as CPython's `pstree` does.
 */
import { connect } from "node:net";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { inspectionSocketPath, type InspectionReply, type TaskRow } from "../dev/index.ts";

/** Reads the task table of process `pid`; throws an explanatory Error when it cannot. */
export async function fetchTasks(pid: number): Promise<InspectionReply> {
  try {
    process.kill(pid, 0);
  } catch {
    throw new Error(`no process with pid ${pid} (or it belongs to another user)`);
  }
  const uid = process.getuid?.() ?? 0;
  const candidates = [...new Set([inspectionSocketPath(pid), join(tmpdir(), `aiots-${uid}`, `aiots-${pid}.sock`)])];
  let lastError: unknown;
  for (const path of candidates) {
    try {
      return await ask(path);
    } catch (error) {
      lastError = error;
    }
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(
    `process ${pid} does not accept inspection (${why}): start it with AIOTS_INSPECT=1 in its environment, or call enableInspection() from "aiots" in it`,
  );
}

function ask(path: string): Promise<InspectionReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let data = "";
    socket.setEncoding("utf8");
    socket.setTimeout(10_000, () => socket.destroy(new Error("the target did not answer within 10 s (is its event loop blocked?)")));
    socket.on("connect", () => socket.write(`${JSON.stringify({ command: "ps" })}\n`));
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      try {
        const reply = JSON.parse(data) as InspectionReply;
        if (reply.error !== undefined) reject(new Error(reply.error));
        else resolve(reply);
      } catch {
        reject(new Error(`unreadable answer from ${path}`));
      }
    });
  });
}

function where(row: TaskRow): string {
  return row.where[0] ?? "";
}

/** The `ps` table: one line per task. */
export function formatTable(reply: InspectionReply): string {
  if (!reply.running) return `process ${reply.pid}: no aiots event loop is running`;
  const header = ["ID", "NAME", "STATE", "AWAITING", "AWAITED BY", "WHERE"];
  const rows = reply.tasks.map((t) => [String(t.id), t.name, t.state, t.awaiting.join(", "), t.awaitedBy.map((id) => `#${id}`).join(" "), where(t)]);
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const out = [line(header), ...rows.map(line)];
  if (!reply.awaitSites) out.push("(WHERE is recorded only when the target runs with AIOTS_INSPECT=sites, enableInspection({ awaitSites: true }) or in debug mode)");
  return out.join("\n");
}

/** Cycles among tasks that await each other, each as a list of ids (first id repeated at the end). */
export function findCycles(tasks: readonly TaskRow[]): number[][] {
  // Edges: parent -> child (the parent awaits the child).
  const children = new Map<number, number[]>();
  for (const t of tasks) for (const parent of t.awaitedBy) children.set(parent, [...(children.get(parent) ?? []), t.id]);
  const cycles: number[][] = [];
  const state = new Map<number, 1 | 2>(); // 1: on the current path, 2: finished
  const path: number[] = [];
  const visit = (id: number): void => {
    state.set(id, 1);
    path.push(id);
    for (const child of children.get(id) ?? []) {
      if (state.get(child) === 1) cycles.push([...path.slice(path.indexOf(child)), child]);
      else if (state.get(child) === undefined) visit(child);
    }
    path.pop();
    state.set(id, 2);
  };
  for (const t of tasks) if (state.get(t.id) === undefined) visit(t.id);
  return cycles;
}

/** The `pstree` drawing; cycles are listed after the tree. */
export function formatTree(reply: InspectionReply): { text: string; cycles: number[][] } {
  if (!reply.running) return { text: `process ${reply.pid}: no aiots event loop is running`, cycles: [] };
  const byId = new Map(reply.tasks.map((t) => [t.id, t]));
  const children = new Map<number, TaskRow[]>();
  for (const t of reply.tasks) for (const parent of t.awaitedBy) children.set(parent, [...(children.get(parent) ?? []), t]);
  const lines: string[] = [];
  const drawn = new Set<number>();
  const draw = (task: TaskRow, prefix: string, last: boolean, onPath: Set<number>): void => {
    const at = where(task);
    lines.push(`${prefix}${last ? "└── " : "├── "}(T) ${task.name} #${task.id}${at === "" ? "" : `  ${at}`}`);
    drawn.add(task.id);
    const kids = (children.get(task.id) ?? []).filter((k) => !onPath.has(k.id));
    kids.forEach((kid, i) => {
      onPath.add(kid.id);
      draw(kid, `${prefix}${last ? "    " : "│   "}`, i === kids.length - 1, onPath);
      onPath.delete(kid.id);
    });
  };
  const roots = reply.tasks.filter((t) => t.awaitedBy.every((p) => !byId.has(p)));
  roots.forEach((root, i) => draw(root, "", i === roots.length - 1, new Set([root.id])));
  const cycles = findCycles(reply.tasks);
  for (const cycle of cycles) {
    lines.push(`cycle (these tasks await each other and will never finish): ${cycle.map((id) => `${byId.get(id)?.name ?? "?"} #${id}`).join(" -> ")}`);
  }
  return { text: lines.join("\n"), cycles };
}
