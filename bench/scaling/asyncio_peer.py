"""Scaling peer, CPython asyncio or uvloop: the same work as aiots.ts.

usage: asyncio_peer.py spawn|cancel|memory N [uvloop]
Prints the harness report line: total ms, peak RSS, and (cancel) the RSS growth; for memory, the
bytes tracemalloc sees allocated per task suspended on its own pending future.
"""
import asyncio
import gc
import json
import resource
import sys
import time
import tracemalloc

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


async def wait_on(future):
    await future


async def memory(n):
    loop = asyncio.get_running_loop()
    futures = [None] * n
    tasks = [None] * n
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    for i in range(n):
        fut = loop.create_future()
        futures[i] = fut
        tasks[i] = asyncio.create_task(wait_on(fut))
    await asyncio.sleep(0)  # every task starts and suspends on its future
    ms = (time.perf_counter() - t0) * 1000
    gc.collect()
    per_task = (tracemalloc.get_traced_memory()[0] - before) / n
    for fut in futures:
        fut.set_result(None)
    for t in tasks:
        await t
    return per_task, ms


async def main_memory():
    await memory((n + 9) // 10)  # untimed warm-up, as the Node peers do
    return await memory(n)


if use_uvloop:
    import uvloop

    uvloop.install()
if mode == "memory":
    tracemalloc.start()
    per_task, ms = asyncio.run(main_memory())
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"value": per_task, "rssBytes": peak, "extra": {"ms": ms, "tasks": n}}))
    sys.exit(0)
ms, growth = asyncio.run(main())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"value": ms, "rssBytes": peak, "extra": {"rssGrowthBytes": growth}}))
