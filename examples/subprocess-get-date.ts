/**
 * Port of the asyncio docs' "get_date" example: start a child with createSubprocessExec, read one
 * line of its stdout, and wait for it to exit.
 *
 * Run: node examples/subprocess-get-date.ts
 */
import { PIPE, createSubprocessExec, run } from "../src/index.ts";

async function getDate(): Promise<string> {
  const code = "console.log(new Date().toISOString())";
  // Create the subprocess; redirect its standard output into a pipe.
  const proc = await createSubprocessExec(process.execPath, ["-e", code], { stdout: PIPE });
  // Read one line of output.
  const line = (await proc.stdout!.readLine()).toString().trimEnd();
  // Wait for the subprocess to exit.
  await proc.wait();
  return line;
}

const date = await run(getDate);
console.log(`Current date: ${date}`);
