"""Values computed once, on first use, and kept by the object whose inputs they come from.

The district tasks of a year share look-ups over the whole year (its student keys, each
file's rows grouped by school): the caller that holds the year's frames makes one object
for them and hands it to every district, and the first district to need a look-up
computes it. ``Once`` is that object's store: no module-level cache, no object identity;
the values go when their owner goes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any


class Once:
    """Per key, the value the first caller computes; callers on other threads (the thread
    pool's district tasks) wait for it rather than compute it again.

    A copy (a Dask worker's, through pickle) starts empty: it recomputes on first use
    rather than ship what can be derived.
    """

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.RLock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._values:
                self._values[key] = compute()
            return self._values[key]

    def __reduce__(self) -> tuple[type[Once], tuple[()]]:
        return (Once, ())
