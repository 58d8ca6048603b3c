"""asyncpg peer for bench/pg/peer.ts: `asyncpg_peer.py <dsn> <roundtrips|fetch> <n>`; the same work
as the Node peers on a pool of one connection; prints {"value": <ms>} as its last line."""
import asyncio
import json
import sys
import time

import asyncpg

ROUND_TRIP = "select $1::int as v"
FETCH = "select i, 'row number ' || i as name, i * 0.5::float8 as x from generate_series(1, $1::int) as i"


async def main(dsn: str, work: str, n: int) -> float:
    async with asyncpg.create_pool(dsn, min_size=1, max_size=1) as pool:
        if work == "roundtrips":
            for i in range(500):
                await pool.fetch(ROUND_TRIP, i)
            start = time.perf_counter()
            for i in range(n):
                rows = await pool.fetch(ROUND_TRIP, i)
                assert rows[0]["v"] == i
            return (time.perf_counter() - start) * 1000
        assert len(await pool.fetch(FETCH, n)) == n
        start = time.perf_counter()
        rows = await pool.fetch(FETCH, n)
        elapsed = (time.perf_counter() - start) * 1000
        assert len(rows) == n
        return elapsed


if __name__ == "__main__":
    value = asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    print(json.dumps({"value": value}))
