"""sqis: the School Quality Improvement System's yearly accountability cycle.

This package is the pure domain: every rule of the methodology as a plain
function over DataFrames. It never imports Prefect; ``tasks/`` and ``flows/``
orchestrate it.
"""

__version__ = "0.1.0"
