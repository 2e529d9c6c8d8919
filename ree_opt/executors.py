"""Executors: where independent pieces of work run. Serial (with progress),
local processes, or a Dask cluster; used alike by sweeps, the tornado, the
budget curve and the out-of-sample evaluation.

Work is cut into chunks by a rule that depends only on the work (never on
the executor), and results come back in the order of the chunks, so every
executor gives the same table.

    executor: None or "serial"   one after the other, in this process
              "processes"        a local pool, one worker per core
              a dask Client, or a scheduler address ("tcp://host:8786")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

#: The executors a command line may name besides a scheduler address.
NAMED = ("serial", "processes")


def even_chunks(values: list, count: int) -> list[list]:
    """`values` cut into `count` runs (at most one per value) whose sizes differ by at most one."""
    count = max(1, min(count, len(values)))
    size, extra = divmod(len(values), count)
    out, start = [], 0
    for index in range(count):
        stop = start + size + (1 if index < extra else 0)
        out.append(values[start:stop])
        start = stop
    return out


def is_serial(executor) -> bool:
    return executor in (None, "serial")


def automatic(executor, count: int, long: int):
    """"auto": processes for `long` pieces of work or more on a machine with
    several cores, serial otherwise; any other executor as given."""
    if executor != "auto":
        return executor
    return "processes" if count >= long and (os.cpu_count() or 1) > 1 else None


def run_chunks(
    function: Callable,
    chunks: Sequence,
    executor=None,
    progress: Callable[[int], None] | None = None,
    size: Callable = len,
) -> list:
    """`function(chunk)` for each chunk, results in the order of the chunks;
    `progress(size(chunk))` as each is done."""
    if is_serial(executor):
        results = []
        for chunk in chunks:
            results.append(function(chunk))
            if progress:
                progress(size(chunk))
        return results
    if executor == "processes":
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
            futures = [pool.submit(function, chunk) for chunk in chunks]
            results = []
            for chunk, future in zip(chunks, futures):
                results.append(future.result())
                if progress:
                    progress(size(chunk))
            return results
    from dask.distributed import Client, as_completed

    client = Client(executor) if isinstance(executor, str) else executor
    try:
        futures = client.map(function, list(chunks), pure=False)
        if progress:
            sizes = {future.key: size(chunk) for future, chunk in zip(futures, chunks)}
            for future in as_completed(futures):
                progress(sizes[future.key])
        return client.gather(futures)
    finally:
        if isinstance(executor, str):
            client.close()
