/**
 * Port of the asyncio docs' low-level subprocess example: `loop.subprocessExec` with a
 * `SubprocessProtocol` that collects the child's output and resolves a future when it exits.
 *
 * Run: node examples/subprocess-protocol.ts
 */
import { DEVNULL, SubprocessProtocol, getRunningLoop, run, type Future } from "../src/index.ts";

class DateProtocol extends SubprocessProtocol {
  readonly #output: Buffer[] = [];
  readonly #exitFuture: Future<boolean>;

  constructor(exitFuture: Future<boolean>) {
    super();
    this.#exitFuture = exitFuture;
  }

  override pipeDataReceived(_fd: number, data: Buffer): void {
    this.#output.push(data);
  }

  override processExited(): void {
    this.#exitFuture.setResult(true);
  }

  get output(): string {
    return Buffer.concat(this.#output).toString();
  }
}

async function getDateLow(): Promise<string> {
  const loop = getRunningLoop();
  const code = "console.log(new Date().toISOString())";
  const exitFuture = loop.createFuture<boolean>();
  // Create the subprocess controlled by DateProtocol; its stdout goes into a pipe.
  const [transport, protocol] = await loop.subprocessExec(() => new DateProtocol(exitFuture), process.execPath, ["-e", code], {
    stdin: DEVNULL,
    stderr: DEVNULL,
  });
  // Wait for the subprocess exit, and for every pipe to close, then close the transport.
  await exitFuture;
  await transport.wait();
  transport.close();
  return protocol.output.trimEnd();
}

const date = await run(getDateLow);
console.log(`Current date: ${date}`);
