"""The optional safer model file: ``model.skops``, written with skops and loaded only with an
explicit list of trusted types.

``model.joblib`` is a pickle, and unpickling runs whatever code the file names: it is safe only
from storage you trust. skops stores the same model without pickle's code execution: loading
refuses every type that is neither on skops' own list of safe scikit-learn and NumPy types nor
trusted here (:data:`TRUSTED_TYPES`, scikit-learn-style estimator classes of the packages the
search spaces draw from, and what the caller adds). Install it with the ``skops`` extra.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import Any

from ..errors import StorageError

__all__ = [
    "ESTIMATOR_PACKAGES",
    "TRUSTED_TYPES",
    "dumps_skops",
    "loads_skops",
    "skops_available",
    "untrusted_types",
]

#: The types of this library, and the few others our models hold, that a ``model.skops`` file
#: may name beyond skops' defaults (``docs/artifacts.md#model-skops`` lists why each is there).
TRUSTED_TYPES: tuple[str, ...] = (
    "automl_tpot.model.tabular.TabularModel",
    "automl_tpot.model.ensemble.WeightedEnsemble",
    "automl_tpot.model.transformers.CategoryCodes",
    "automl_tpot.model.transformers.CappedFeatureAgglomeration",
    "automl_tpot.model.boosting.HistGradientBoostingClassifier",
    "automl_tpot.records.signature.InputSignature",
    "automl_tpot.records.signature.ColumnSignature",
    "automl_tpot.records.signature.TargetSignature",
    # the preprocessing's FunctionTransformer steps
    "automl_tpot.data.preprocessing.as_category_strings",
    "automl_tpot.data.preprocessing.as_float_booleans",
    # scikit-learn internals fitted estimators hold
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "functools.partial",
    "numpy.dtype",
    "collections.OrderedDict",
    # the boosters of XGBoost and LightGBM models: their state is the model's bytes or text
    "xgboost.core.Booster",
    "lightgbm.basic.Booster",
)
#: Packages whose estimator classes (subclasses of scikit-learn's ``BaseEstimator``) a model
#: may hold: those the search spaces' config dicts may name.
ESTIMATOR_PACKAGES = ("sklearn", "tpot", "xgboost", "lightgbm")


def skops_available() -> bool:
    """Whether the skops package is installed."""
    return importlib.util.find_spec("skops") is not None


def _skops_io() -> Any:
    try:
        import skops.io
    except ImportError as error:
        raise StorageError(
            "the skops model format needs the skops package: pip install 'automl-tpot[skops]'"
        ) from error
    return skops.io


def dumps_skops(model: Any) -> bytes:
    """``model`` in the skops format."""
    return bytes(_skops_io().dumps(model))


def _is_estimator_class(name: str) -> bool:
    module, _, attribute = name.rpartition(".")
    if module.split(".")[0] not in ESTIMATOR_PACKAGES:
        return False
    from sklearn.base import BaseEstimator

    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return False
    return isinstance(found, type) and issubclass(found, BaseEstimator)


def _refused(found: Sequence[str], trusted: Sequence[str]) -> list[str]:
    allowed = set(TRUSTED_TYPES) | set(trusted)
    return [name for name in found if name not in allowed and not _is_estimator_class(name)]


def untrusted_types(data: bytes, trusted: Sequence[str] = ()) -> list[str]:
    """The types ``data`` (a skops file) names that :func:`loads_skops` would refuse."""
    return _refused(_skops_io().get_untrusted_types(data=data), trusted)


def loads_skops(data: bytes, *, trusted: Sequence[str] = (), source: str = "model.skops") -> Any:
    """The model a skops file holds, loaded with the trusted types only.

    Raises:
        StorageError: the file names a type that is not trusted (the message lists them; pass
            them in ``trusted`` if you trust the file), skops is not installed, or the file
            cannot be read.
    """
    io = _skops_io()
    try:
        found = io.get_untrusted_types(data=data)
    except Exception as error:  # a damaged file fails in zipfile, json, ...
        raise StorageError(f"{source} is not a readable skops file: {error}") from error
    refused = _refused(found, trusted)
    if refused:
        raise StorageError(
            f"{source} holds types that are not trusted: {refused[:10]}; load it with "
            "trusted=[...] naming them only if you trust where the file comes from"
        )
    try:
        return io.loads(data, trusted=list(found))
    except Exception as error:
        raise StorageError(
            f"{source} could not be loaded: {type(error).__name__}: {error}"
        ) from error
