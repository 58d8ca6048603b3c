"""asyncio (or uvloop) side of the sync suite: `<case> [N] [uvloop]`; 10% warm-up, then the timed run, in ms."""
import asyncio
import json
import resource
import sys
import time

TASKS = 100


async def queue(n):
    q = asyncio.Queue(100)
    total = 0

    async def producer():
        for i in range(n):
            await q.put(i)

    async def consumer():
        nonlocal total
        for _ in range(n):
            total += await q.get()

    await asyncio.gather(producer(), consumer())
    assert total == n * (n - 1) // 2


async def contended(prim, n, hold_across_sleep):
    each = n // TASKS
    counter = 0

    async def worker():
        nonlocal counter
        for _ in range(each):
            async with prim:
                if hold_across_sleep:
                    await asyncio.sleep(0)
                counter += 1

    await asyncio.gather(*(worker() for _ in range(TASKS)))
    assert counter == each * TASKS


async def event_fan_out(n):
    event = asyncio.Event()
    tasks = [asyncio.create_task(event.wait()) for _ in range(n)]
    await asyncio.sleep(0)
    event.set()
    await asyncio.gather(*tasks)


CASES = {
    "queue": (queue, 1_000_000),
    "lock-held": (lambda n: contended(asyncio.Lock(), n, True), 1_000_000),
    "lock-free": (lambda n: contended(asyncio.Lock(), n, False), 1_000_000),
    "event": (event_fan_out, 100_000),
    "semaphore": (lambda n: contended(asyncio.Semaphore(10), n, True), 1_000_000),
}


def main():
    args = [a for a in sys.argv[1:] if a != "uvloop"]
    name = args[0] if args else "queue"
    work, n = CASES[name]
    if len(args) > 1:
        n = int(args[1])
    if "uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()

    async def timed():
        await work(max(TASKS, n // 10))
        start = time.perf_counter()
        await work(n)
        return (time.perf_counter() - start) * 1000

    ms = asyncio.run(timed())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"value": ms, "rssBytes": rss, "extra": {"n": n}}))


if __name__ == "__main__":
    main()
