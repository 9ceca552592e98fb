"""Bounds the data contract fixes (DATA_CONTRACT.md, docs/data-contract.md).

These are the contract's vocabulary, not methodology numbers: they say what a valid
delivered value is, not how it is scored.
"""

from __future__ import annotations

SCHOOL_CODE_DIGITS = 14  # CDS code: 2 county + 5 district + 7 school
DISTRICT_CODE_DIGITS = 7  # the first 7 digits of the school code
STUDENT_ID_DIGITS = 10  # state student ID
GRADE_RANGE = (0, 12)  # 0 = kindergarten
DAYS_ENROLLED_RANGE = (0, 200)
SCALE_SCORE_RANGE = (2000.0, 3000.0)
SURVEY_SCORE_RANGE = (1.0, 5.0)
# A contract file's header names its columns in a few hundred bytes; a first line longer
# than this (a file without line breaks, millions of columns) is refused before parsing.
HEADER_MAX_BYTES = 1 << 16

# ---- what the results store can hold (sqis/store/models.py; tests/test_hostile_input_2.py
# checks these against the models' column sizes) ----------------------------------------
# schools.school_name, schools.district_name: VARCHAR(200) (characters, not bytes)
NAME_MAX_CHARS = 200
# INTEGER (PostgreSQL int4): the bound of every integer column without a smaller one
INTEGER_MAX = 2**31 - 1
# Control characters (C0, DEL, C1): a NUL cannot be stored in PostgreSQL text at all, and
# none belongs in a name or an ID. Text columns refuse them (rule ``no_control_characters``).
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"

# ---- Parquet inputs: the bounds a CSV file has by its nature ----------------------------
# A CSV cell takes at least one byte (its separator), so a CSV file holds at most one
# cell per byte and reading it costs memory in proportion to its size. A Parquet file can
# encode a million identical rows in a few kilobytes; delivered Parquet files compress
# contract data to 1-2 cells per byte (synthetic consortium, snappy and zstd, text or
# typed columns). Rows × columns beyond this many per byte of file are refused from the
# file's metadata, before any row is read (rule ``file:too_many_rows``).
PARQUET_MAX_CELLS_PER_BYTE = 16
# ... and a small file may always hold this many cells (a file's footer alone is ~1 KB)
PARQUET_MIN_CELLS = 1 << 16
# A Parquet schema naming more columns than a 64 KiB CSV header could is refused too.
MAX_COLUMNS = HEADER_MAX_BYTES // 2

# ---- the validation report ---------------------------------------------------------------
# At most this many failing rows are listed per file, rule and column (the summary still
# counts every one); a row with rule ``report:truncated`` says how many more there are.
REPORT_MAX_ROWS_PER_RULE = 1000
# A value longer than this is shown cut, with its length (a 100 MB field stays in the file).
REPORT_MAX_VALUE_CHARS = 200
