/**
 * Port of the asyncio docs' first subprocess example ("Subprocesses": run a shell command, capture
 * its output), then the same two commands run in parallel with gather().
 *
 * Run: node examples/subprocess-shell.ts
 */
import { PIPE, createSubprocessShell, gather, run } from "../src/index.ts";

async function runCommand(cmd: string): Promise<void> {
  const proc = await createSubprocessShell(cmd, { stdout: PIPE, stderr: PIPE });
  const [stdout, stderr] = await proc.communicate();
  console.log(`[${cmd}] exited with ${proc.returncode}`);
  if (stdout !== null && stdout.length > 0) console.log(`[stdout]\n${stdout.toString()}`);
  if (stderr !== null && stderr.length > 0) console.log(`[stderr]\n${stderr.toString()}`);
}

await run(() => runCommand("ls /zzz"));

// Several commands at once: the loop waits on all of them.
await run(async () => {
  await gather(runCommand("ls /zzz"), runCommand('sleep 0.2; echo "hello"'));
});
