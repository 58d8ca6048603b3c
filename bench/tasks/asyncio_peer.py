"""CPython asyncio (or uvloop with a trailing 'uvloop') side of the tasks suite: <case> <N>; ms."""
import asyncio
import json
import resource
import sys
import time

name = sys.argv[1] if len(sys.argv) > 1 else "spawn"
n_arg = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "uvloop" else None
use_uvloop = sys.argv[-1] == "uvloop"


async def spawn(n):
    tasks = [asyncio.create_task(asyncio.sleep(0)) for _ in range(n)]
    for t in tasks:
        await t


async def gather_trivial(n):
    async def trivial(i):
        return i
    await asyncio.gather(*[trivial(i) for i in range(n)])


async def sleep_zero(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def cancel_sleeping(n):
    tasks = [asyncio.create_task(asyncio.sleep(10)) for _ in range(n)]
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


CASES = {"spawn": (spawn, 100_000), "gather": (gather_trivial, 100_000),
         "sleep0": (sleep_zero, 1_000_000), "cancel": (cancel_sleeping, 100_000)}


async def main():
    work, default_n = CASES[name]
    n = int(n_arg) if n_arg else default_n
    await work(max(1, n // 10))
    start = time.perf_counter()
    await work(n)
    return (time.perf_counter() - start) * 1000, n


if use_uvloop:
    import uvloop  # 0.17 (Debian) has no uvloop.run: install the policy instead
    uvloop.install()
ms, n = asyncio.run(main())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"value": ms, "rssBytes": rss, "extra": {"n": n}}))
