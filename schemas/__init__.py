"""pandera models of the data contract (one module per contract file) and its cross-file rules.

``CONTRACT_MODELS`` maps each contract file name (``sqis.codes.CONTRACT_FILES``) to its model.
"""

from __future__ import annotations

from schemas.assessments import Assessments
from schemas.climate import Climate
from schemas.graduation import Graduation
from schemas.schools import Schools
from schemas.sel import Sel
from schemas.students import Students

CONTRACT_MODELS = {
    "schools": Schools,
    "students": Students,
    "assessments": Assessments,
    "graduation": Graduation,
    "sel": Sel,
    "climate": Climate,
}

__all__ = ["CONTRACT_MODELS", "Assessments", "Climate", "Graduation", "Schools", "Sel", "Students"]
