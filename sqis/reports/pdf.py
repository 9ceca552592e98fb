"""PDF of the reports with WeasyPrint, in parallel across cores.

WeasyPrint takes a few hundred milliseconds per report and holds the GIL, so PDFs are
rendered in a ``ProcessPoolExecutor`` (one worker per core by default; ~3 CPU-seconds
per school report on the development machine, so ``pdf="auto"`` renders only the Focus
and Priority schools' reports). The HTML is
self-contained, so no URL is fetched: a ``url_fetcher`` that refuses everything makes sure
of it (a report never reaches the network).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from sqis.errors import SqisError


class PdfError(RuntimeError, SqisError):
    """A report that WeasyPrint could not render."""


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise PdfError(f"reports are self-contained: refusing to fetch {url}")


def html_to_pdf(html: str) -> bytes:
    """One HTML report as PDF bytes (print styles apply)."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()


def _one(item: tuple[str, str]) -> tuple[str, bytes]:
    key, html = item
    try:
        return key, html_to_pdf(html)
    except Exception as e:  # name the report, keep the cause
        raise PdfError(f"{key}: PDF rendering failed: {e}") from e


def render_pdfs(htmls: dict[str, str], workers: int | None = None) -> dict[str, bytes]:
    """``{pdf_key: html}`` → ``{pdf_key: pdf_bytes}``, across ``workers`` processes."""
    if not htmls:
        return {}
    n = min(workers or os.cpu_count() or 1, len(htmls))
    if n <= 1:
        return dict(_one(i) for i in htmls.items())
    # spawn, not fork: the caller may be a threaded process (a Prefect worker), and a
    # forked child of a threaded process can deadlock on a lock held at fork time
    with ProcessPoolExecutor(
        max_workers=n, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        return dict(pool.map(_one, htmls.items(), chunksize=max(1, len(htmls) // (4 * n))))
