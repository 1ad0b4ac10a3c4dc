"""The exported model: :class:`TabularModel` (raw rows in, the target's labels out), the
ensemble estimator and the transformers the search spaces add to pipelines.

Stored models refer to these classes by their import path, so the names re-exported here are
part of the artifact contract."""

from .tabular import TabularModel

__all__ = ["TabularModel"]
