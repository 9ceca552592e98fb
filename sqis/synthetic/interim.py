"""Synthetic interim deliveries for the checkpoints of a service year (``schemas/interim.py``).

The four checkpoints of a service year compare interim data with each Focus school's
identification values (METHODOLOGY.md "Communities of practice and checkpoints"). The
synthetic consortium has the service year's whole-year files; the interim files of
checkpoint ``n`` of ``N`` are cut from them, so the walk through a year is consistent:

- ``attendance.csv``: each enrolment's days enrolled and absent so far, the year's days
  scaled by ``n / N`` (absences never above days enrolled);
- ``interim_assessments.csv``: each ELA and math result of the year, its performance
  level moved one step up or down for a seeded share of students (interim tests are
  noisier than the summative one);
- ``participation.csv``: every school of the year, a seeded few not represented.

Synthetic only: the files carry the generator's made-up student IDs, like the yearly files.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from sqis.storage import open_storage

INTERIM_FOLDER = "{year}/interim/checkpoint-{number}"


def interim_frames(
    students: pd.DataFrame,
    assessments: pd.DataFrame,
    number: int,
    checkpoints: int,
    seed: int,
    noise: float = 0.15,
    absent_share: float = 0.1,
) -> dict[str, pd.DataFrame]:
    """The interim files of checkpoint ``number`` of ``checkpoints``, from the service year's
    whole-year ``students`` and ``assessments`` (contract columns, text)."""
    if not 1 <= number <= checkpoints:
        raise ValueError(f"checkpoint {number} is not one of 1..{checkpoints}")
    rng = np.random.default_rng([seed, number])
    share = number / checkpoints
    enrolled = pd.to_numeric(students["days_enrolled"]).to_numpy()
    absent = pd.to_numeric(students["days_absent"]).to_numpy()
    so_far = np.round(enrolled * share).astype("int64")
    attendance = pd.DataFrame(
        {
            "student_id": students["student_id"].to_numpy(),
            "school_code": students["school_code"].to_numpy(),
            "days_enrolled": so_far,
            "days_absent": np.minimum(np.round(absent * share).astype("int64"), so_far),
        }
    ).drop_duplicates(["student_id", "school_code"])
    tests = assessments[assessments["subject"].isin(["ELA", "MATH"])]
    level = pd.to_numeric(tests["performance_level"]).to_numpy()
    step = np.where(rng.random(len(level)) < noise, rng.choice([-1, 1], len(level)), 0)
    interim = pd.DataFrame(
        {
            "student_id": tests["student_id"].to_numpy(),
            "school_code": tests["school_code"].to_numpy(),
            "subject": tests["subject"].to_numpy(),
            "performance_level": np.clip(level + step, 1, 4).astype("int64"),
        }
    ).drop_duplicates(["student_id", "school_code", "subject"])
    schools = np.sort(students["school_code"].unique())
    attended = rng.random(len(schools)) >= absent_share
    participation = pd.DataFrame(
        {
            "school_code": schools,
            "attended": np.where(attended, "Y", "N"),
            "attendees": np.where(attended, "Principal and instructional coach", ""),
        }
    )
    return {
        "attendance": attendance,
        "interim_assessments": interim,
        "participation": participation,
    }


def write_interim(
    data_root: str, service_year: str, number: int, checkpoints: int, seed: int
) -> list[str]:
    """Write the interim files of checkpoint ``number`` of ``service_year`` under the data
    root (``<root>/<year>/interim/checkpoint-<n>/``), cut from that year's synthetic
    ``students.csv`` and ``assessments.csv``; returns the keys written."""
    storage = open_storage(data_root)

    def read(name: str) -> pd.DataFrame:
        raw = storage.read_bytes(f"{service_year}/{name}.csv")
        return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)

    frames = interim_frames(read("students"), read("assessments"), number, checkpoints, seed)
    folder = INTERIM_FOLDER.format(year=service_year, number=number)
    keys = []
    for name, frame in frames.items():
        key = f"{folder}/{name}.csv"
        storage.write_bytes(key, frame.to_csv(index=False).encode("utf-8"), "text/csv")
        keys.append(key)
    return keys
