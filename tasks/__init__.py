"""Thin Prefect tasks over ``sqis.pipeline``: retries on I/O, caching on checksums, artifacts.

Each task is one stage for the whole consortium or for one district, never one per
school or student: the number of task runs grows with districts and stages only.
"""
