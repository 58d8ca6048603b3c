/**
 * Demo 2 — ten concurrent HTTP GETs with `gather` and one pooled `ClientSession`.
 *
 *   node examples/http-gather.ts       # starts the demo server on a free port, then fetches
 */
import { gather, getRunningLoop, run } from "../src/index.ts";
import { ClientSession } from "../src/http.ts";
import { createApp } from "./server.ts";

export async function httpGatherDemo(baseUrl: string, print: (line: string) => void = console.log): Promise<void> {
  await using session = new ClientSession({ baseUrl, timeout: { total: 10 } });
  const started = getRunningLoop().time();
  const items = await gather(
    ...Array.from({ length: 10 }, async (_, i) => {
      const resp = await session.get(`/items/${i + 1}`);
      resp.raiseForStatus();
      return resp.json<{ id: number; name: string }>();
    }),
  );
  const ms = (getRunningLoop().time() - started) * 1000;
  print(`    ${items.length} responses, in request order: ${items.map((item) => item.id).join(" ")}`);
  print(`    all ten were in flight at once on one pooled session (${ms < 1 ? "<1" : Math.round(ms)} ms in all)`);
}

if (import.meta.main) {
  await run(async () => {
    await using server = await createApp().serve({ host: "127.0.0.1", port: 0 });
    const [host, port] = server.sockets[0]!.getsockname() as [string, number];
    await httpGatherDemo(`http://${host}:${port}`);
  });
}
