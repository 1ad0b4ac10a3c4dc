"""The input signature: what the exported model was trained on and expects of the rows it
predicts on. The model holds one (``TabularModel.signature_``); every run stores its JSON view as
``signature.json`` (``docs/artifacts.md``, schema ``signature.schema.json``).

Built from the prepared training table by :func:`automl_tpot.data.signature.build_signature`;
the predict-time checks against it live beside that builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from attrs import define, field

from ..errors import DataError
from .documents import SCHEMA_VERSION

__all__ = [
    "INVALID_VALUE_POLICIES",
    "KINDS",
    "MAX_LEVELS",
    "ColumnSignature",
    "InputSignature",
    "TargetSignature",
]

#: How a column is encoded (the groups of :class:`~automl_tpot.data.FeatureTypes`); a
#: ``dropped`` column is not read by the model and may be absent from the rows.
KINDS = ("numeric", "categorical", "boolean", "text", "dropped")
#: What :meth:`TabularModel.predict` does with a value of the wrong type (a string in a numeric
#: column): treat it as missing (and log a warning naming the column) or raise ``DataError``.
INVALID_VALUE_POLICIES = ("missing", "error")
#: At most this many category levels are recorded per column (the most frequent ones).
MAX_LEVELS = 100


def _kind(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value not in KINDS:
        raise DataError(f"column kind {value!r} is unknown; expected one of {', '.join(KINDS)}")


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


def _as_optional_tuple(value: Any) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


@define(frozen=True)
class ColumnSignature:
    """One input column as training saw it.

    Attributes:
        name: the column's name (as text).
        kind: how it is encoded: one of :data:`KINDS`.
        dtype: its pandas dtype in the training table (``None`` when unknown: a model stored
            before signatures existed).
        missing: training rows without a value.
        minimum, maximum: the range of a numeric column in training (``None`` otherwise).
        levels: the most frequent category levels (at most :data:`MAX_LEVELS`, as text, sorted).
        n_levels: how many distinct levels training held (categorical and text columns).
        reason: why a dropped column is not used.
    """

    name: str
    kind: str = field(validator=_kind)
    dtype: str | None = None
    missing: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    levels: tuple[str, ...] = field(default=(), converter=_as_tuple)
    n_levels: int | None = None
    reason: str | None = None

    @property
    def required(self) -> bool:
        """Whether rows must hold this column (the model reads it)."""
        return self.kind != "dropped"

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (one object of ``signature.json``'s ``columns``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "required": self.required,
            "missing": self.missing,
        }
        if self.kind == "numeric":
            out.update(minimum=self.minimum, maximum=self.maximum)
        if self.kind in ("categorical", "text"):
            out.update(
                levels=list(self.levels),
                n_levels=self.n_levels,
                levels_truncated=self.n_levels is not None and self.n_levels > len(self.levels),
            )
        if self.kind == "dropped":
            out["reason"] = self.reason
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSignature:
        """The column of a parsed ``signature.json`` entry."""
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            dtype=data.get("dtype"),
            missing=data.get("missing"),
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            levels=tuple(data.get("levels", ())),
            n_levels=data.get("n_levels"),
            reason=data.get("reason"),
        )


@define(frozen=True)
class TargetSignature:
    """The predicted column.

    Attributes:
        name: its name in the training table (``None`` when training got a bare array).
        task: ``"classification"`` or ``"regression"``.
        dtype: its pandas dtype in the training table, when known.
        classes: the class labels (JSON values: text, numbers, booleans), classification only,
            in the order of ``predict_proba``'s columns.
    """

    name: str | None
    task: str
    dtype: str | None = None
    classes: tuple[Any, ...] | None = field(default=None, converter=_as_optional_tuple)

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``signature.json``'s ``target``)."""
        return {
            "name": self.name,
            "task": self.task,
            "dtype": self.dtype,
            "classes": None if self.classes is None else list(self.classes),
        }


@define(frozen=True)
class InputSignature:
    """The input columns (in training order) and the target of a model.

    Attributes:
        columns: every feature column of the training table, dropped ones included.
        target: the predicted column, its task and classes.
        n_rows: training rows (``None`` when unknown).
    """

    columns: tuple[ColumnSignature, ...] = field(converter=_as_tuple)
    target: TargetSignature
    n_rows: int | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every column's name, in training order."""
        return tuple(column.name for column in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """The columns rows must hold (those the model reads)."""
        return tuple(column.name for column in self.columns if column.required)

    def to_dict(
        self, run_id: str | None = None, invalid_values: str | None = None
    ) -> dict[str, Any]:
        """``signature.json``: the header, the predict-time policy and every column.

        Args:
            run_id: the run the model belongs to.
            invalid_values: the model's policy for values of the wrong type (one of
                :data:`INVALID_VALUE_POLICIES`), recorded so readers know what predict does.
        """
        return {
            "schema": "automl-tpot/signature",
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "n_rows": self.n_rows,
            "policy": {
                "missing_column": "error",
                "extra_columns": "ignore",
                "invalid_values": invalid_values or INVALID_VALUE_POLICIES[0],
                "empty_rows": "empty_predictions",
            },
            "target": self.target.to_dict(),
            "columns": [column.to_dict() for column in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputSignature:
        """The signature of a parsed ``signature.json``."""
        target: Mapping[str, Any] = data["target"]
        columns: Sequence[Mapping[str, Any]] = data["columns"]
        return cls(
            columns=tuple(ColumnSignature.from_dict(column) for column in columns),
            target=TargetSignature(
                name=target.get("name"),
                task=str(target["task"]),
                dtype=target.get("dtype"),
                classes=target.get("classes"),
            ),
            n_rows=data.get("n_rows"),
        )
