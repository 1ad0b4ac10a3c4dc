"""The host job API: :func:`run_for_job` turns a job payload into a run and one record."""

from ..records.job import JOB_STATUSES
from .details import DETAILS_LIMIT, details_json
from .entry import FAILURE, read_failure, run_for_job
from .validation import validate_payload

__all__ = [
    "DETAILS_LIMIT",
    "FAILURE",
    "JOB_STATUSES",
    "details_json",
    "read_failure",
    "run_for_job",
    "validate_payload",
]
