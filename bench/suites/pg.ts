/**
 * aiots/pg beside the raw driver (node-postgres's own Pool) and Python's asyncpg, each sample on a
 * private PostgreSQL cluster started by the peer (bench/pg/peer.ts): 10,000 sequential `select $1`
 * round trips, and one fetch of 100,000 rows.
 */
import { existsSync } from "node:fs";
import type { PeerCommand, Suite } from "../suite.ts";

const node = process.execPath;
// Debian's server binaries (as test/helpers/pg-server.ts finds them): a peer without them is missing, not crashed.
const initdb = ["17", "16", "15", "14", "13"].map((v) => `/usr/lib/postgresql/${v}/bin/initdb`).find((p) => existsSync(p)) ?? "/usr/lib/postgresql/15/bin/initdb";
const postgres = "apt-get install postgresql (scripts/install-test-deps.sh)";

function peer(kind: string, work: string): PeerCommand {
  if (kind === "asyncpg") {
    return {
      command: [node, "bench/pg/peer.ts", kind, work],
      needs: [initdb, "/usr/bin/python3"],
      requires: `${postgres}; apt-get install python3-asyncpg (bench/setup.sh)`,
    };
  }
  return { command: [node, "bench/pg/peer.ts", kind, work], needs: [initdb], requires: postgres };
}

export const suite: Suite = {
  name: "pg",
  description:
    "aiots/pg against the raw driver it runs on (node-postgres's Pool.query, rows as objects) and asyncpg " +
    "(Python, pool.fetch), on a pool of one connection to a private PostgreSQL 15 cluster (fsync off) " +
    "on 127.0.0.1 that each sample starts: sequential `select $1::int` round trips after 500 warm-up ones, " +
    "and one `select` of int4, text and float8 columns over generate_series after one warm-up fetch. " +
    "Server CPU seconds in the extras.",
  cases: [
    {
      name: "10k sequential select $1 round trips",
      unit: "ms",
      lowerIsBetter: true,
      peers: {
        "raw pg": peer("pg", "roundtrips"),
        aiots: peer("aiots", "roundtrips"),
        asyncpg: peer("asyncpg", "roundtrips"),
      },
      baseline: "raw pg",
      target: "aiots <= 1.1x the raw driver",
      repetitions: { full: 5, quick: 1 },
      quickArgs: ["2000"],
      timeoutSeconds: 120,
    },
    {
      name: "fetch 100k rows",
      unit: "ms",
      lowerIsBetter: true,
      peers: {
        "raw pg": peer("pg", "fetch"),
        aiots: peer("aiots", "fetch"),
        asyncpg: peer("asyncpg", "fetch"),
      },
      baseline: "raw pg",
      target: "aiots <= 1.1x the raw driver",
      repetitions: { full: 5, quick: 1 },
      quickArgs: ["20000"],
      timeoutSeconds: 120,
    },
  ],
};
