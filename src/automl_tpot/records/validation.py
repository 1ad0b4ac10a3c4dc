"""The published JSON Schemas of the run's artifacts and the job record, and validation
against them.

The schemas ship inside the package (``automl_tpot/records/schemas/*.schema.json``, JSON Schema
draft 2020-12) so hosts can validate what they read; ``docs/artifacts.md`` lists them.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["SCHEMAS", "schema", "validate"]

#: Schema name -> the document it describes.
SCHEMAS = {
    "run": "run.json (the manifest)",
    "leaderboard": "leaderboard.json",
    "pareto-front": "tp_pareto_front.json",
    "evaluated-individuals": "evaluated_individuals.json",
    "signature": "signature.json (the model's input signature)",
    "evaluation-record": "one evaluation of evaluated_individuals.json",
    "importance": "importance.json (permutation importance, when the run has it)",
    "diagnostics": "diagnostics.json (out-of-fold diagnostics, when the run has it)",
    "training-run": "the job record (run_for_job's return value, failure.json)",
    "training-run-details": "the JSON text in a job record's details",
    "checkpoint": "checkpoint.json (the pointer of an unfinished run's checkpoint)",
}


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (one of :data:`SCHEMAS`)."""
    if name not in SCHEMAS:
        raise KeyError(f"no schema {name!r}; known: {', '.join(SCHEMAS)}")
    text = resources.files(__package__).joinpath(f"schemas/{name}.schema.json").read_text()
    return json.loads(text)


@functools.cache
def _registry() -> Any:
    from referencing import Registry, Resource

    return Registry().with_resources(
        (schema(name)["$id"], Resource.from_contents(schema(name))) for name in SCHEMAS
    )


def validate(document: Any, name: str) -> None:
    """Check ``document`` against schema ``name``; a job record's ``details`` text is checked
    against ``training-run-details`` too.

    Raises:
        jsonschema.ValidationError: the first problem found, with its path in the document.
    """
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(
        schema(name), registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(document)
    if name == "training-run":
        validate(json.loads(document["details"]), "training-run-details")
