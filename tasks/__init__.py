"""Thin Prefect tasks over the stages of `sqis` (those `sqis.pipeline.run_year` runs): retries on
I/O, caching on checksums, artifacts.

Each task is one stage for the whole consortium or for one district, never one per
school or student: the number of task runs grows with districts and stages only.
"""
