"""Scaling peer, CPython asyncio or uvloop: the same work as aiots.ts.

usage: asyncio_peer.py spawn|cancel N [uvloop]
Prints the harness report line: total ms, peak RSS, and (cancel) the RSS growth.
"""
import asyncio
import gc
import json
import resource
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "spawn"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
use_uvloop = "uvloop" in sys.argv[3:]
BATCH = 10_000


def rss_now():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


async def child_spawn():
    await asyncio.sleep(0)


async def child_sleep():
    await asyncio.sleep(3600)


async def spawn(n):
    tasks = [asyncio.create_task(child_spawn()) for _ in range(n)]
    for t in tasks:
        await t


async def cancel(n):
    for done in range(0, n, BATCH):
        tasks = [asyncio.create_task(child_sleep()) for _ in range(min(BATCH, n - done))]
        await asyncio.sleep(0)
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except asyncio.CancelledError:
                pass


async def main():
    work = cancel if mode == "cancel" else spawn
    await work((n + 9) // 10)  # untimed 10% warm-up, as ANCHORS.md measured
    gc.collect()
    before = rss_now()
    t0 = time.perf_counter()
    await work(n)
    ms = (time.perf_counter() - t0) * 1000
    gc.collect()
    return ms, rss_now() - before


if use_uvloop:
    import uvloop

    uvloop.install()
ms, growth = asyncio.run(main())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"value": ms, "rssBytes": peak, "extra": {"rssGrowthBytes": growth}}))
