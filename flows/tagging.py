"""Tags: on flow runs, never on task runs.

Every flow run is tagged ``year:YYYY-YY`` (scheduled runs learn their year only once
running), so the UI's filters find a year's runs; a task run's name says its stage, year
and district (``index-2014-15-0110002``).

Task runs carry no tags on purpose. Prefect 3 asks the API for a concurrency slot for
every tag of every task run before it starts (tag-based concurrency limits), one HTTP
round trip per task run even when no limit exists, and the first request for a new set
of tags waited about 2 s on the temporary server: with a tag per stage that was a
quarter of the cycle's wall time at 200,000 students (BENCHMARKS.md, "Hot spots").
How many district tasks run at once is ``SQIS_DISTRICT_WORKERS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_run_logger
from prefect.context import TagsContext
from prefect.runtime import flow_run


def tag_flow_run(tag: str) -> None:
    """Add a tag to this flow run (scheduled runs learn their year only once running)."""
    if not flow_run.id:
        return
    from uuid import UUID

    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as c:
            fr = c.read_flow_run(UUID(str(flow_run.id)))
            if tag not in fr.tags:
                c.update_flow_run(fr.id, tags=[*fr.tags, tag])
    except Exception as e:  # a missing tag must not fail the year's run
        get_run_logger().warning("could not tag the flow run %s: %s", tag, e)


@contextmanager
def untagged_task_runs() -> Iterator[None]:
    """Task runs started inside carry no tags, not even those the caller's
    ``prefect.tags(...)`` gave the flow run (the CLI tags its runs ``sqis``, ``cli``)."""
    with TagsContext(current_tags=set()):
        yield
