/**
 * An HTTP GET with streams (asyncio docs: "Get HTTP headers"), against a local node:http server so
 * it runs offline. Run: node examples/http-get-streams.ts [url]
 */
import * as http from "node:http";
import { run, openConnection } from "../src/index.ts";

async function printHttpHeaders(url: URL): Promise<void> {
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const [reader, writer] = await openConnection(url.hostname, port, url.protocol === "https:" ? { ssl: true } : {});
  const query = `HEAD ${url.pathname || "/"} HTTP/1.0\r\nHost: ${url.hostname}\r\n\r\n`;
  writer.write(Buffer.from(query, "latin1"));
  for await (const raw of reader) {
    const line = raw.toString("latin1").trimEnd();
    if (line) console.log(`HTTP header> ${line}`);
  }
  writer.close();
  await writer.waitClosed();
}

await run(async () => {
  if (process.argv[2] !== undefined) {
    await printHttpHeaders(new URL(process.argv[2]));
    return;
  }
  const local = http.createServer((_req, res) => {
    res.setHeader("X-Example", "aiots");
    res.end("hello");
  });
  await new Promise<void>((resolve) => local.listen(0, "127.0.0.1", resolve));
  const { port } = local.address() as { port: number };
  try {
    await printHttpHeaders(new URL(`http://127.0.0.1:${port}/`));
  } finally {
    local.close();
  }
});
