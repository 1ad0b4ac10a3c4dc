"""Reports built from TPOT's history: records, leaderboard, Pareto front, JSON round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler
from tpot.builtin_modules import Passthrough

from automl_tpot.records.evaluation import EvaluationRecord, leaderboard, pareto_front
from automl_tpot.tpot_boundary import SearchHistory
from automl_tpot.utils.jsonio import dumps_json
from automl_tpot.utils.pipelines import describe_pipeline, pipeline_complexity


def test_describe_pipeline_flattens_and_skips_placeholders():
    pipeline = make_pipeline(
        MaxAbsScaler(),
        FeatureUnion([("a", StandardScaler()), ("p", Passthrough())]),
        LogisticRegression(C=np.float64(0.5)),
    )
    assert (
        describe_pipeline(pipeline)
        == "MaxAbsScaler() -> StandardScaler() -> LogisticRegression(C=0.5)"
    )


def test_complexity_counts_operators_and_changed_parameters():
    assert pipeline_complexity(GaussianNB()) == 1.0
    assert pipeline_complexity(make_pipeline(MaxAbsScaler(), GaussianNB())) == 2.0
    assert pipeline_complexity(LogisticRegression(C=2.0)) == 1.1


class _Individual:
    """What the history reads of a TPOT individual: its unique id."""

    def __init__(self, uid: str):
        self.uid = uid

    def unique_id(self) -> str:
        return self.uid


def _records(frame: pd.DataFrame, reasons=None) -> list[EvaluationRecord]:
    history = SearchHistory(frame, "roc_auc_score", complexity_column="complexity")
    return history.records(metric="roc_auc", reasons=reasons)


def _tpot_like_history() -> pd.DataFrame:
    """A DataFrame with the columns and value kinds TPOT 1.1 puts in evaluated_individuals."""
    return pd.DataFrame(
        {
            "roc_auc_score": [0.9, np.nan, 0.95, np.nan, 0.95, 0.7],
            "complexity": [3.0, np.nan, 2.0, np.nan, 4.0, 1.0],
            "Parents": [np.nan, np.nan, (0,), np.nan, (0, 2), np.nan],
            "Variation_Function": [np.nan, np.nan, "mutate", np.nan, "crossover", np.nan],
            "Individual": [_Individual(f"ind{i}") for i in range(6)],
            "Generation": [0.0, 0.0, 1.0, 1.0, 2.0, 0.0],
            "Submitted Timestamp": [1.0, 1.0, 2.0, 2.0, 3.0, 1.0],
            "Completed Timestamp": [1.5, 1.2, 2.5, np.nan, 3.5, 1.1],
            "Eval Error": [None, "INVALID", None, None, None, None],
            "Pareto_Front": [np.nan, np.nan, 1.0, np.nan, np.nan, 1.0],
            "Instance": [GaussianNB()] * 6,
        }
    )


def test_records_are_json_safe_and_classify_every_outcome():
    history = _tpot_like_history()
    history.loc[3, "Eval Error"] = None
    history.loc[5, "Eval Error"] = "TIMEOUT"
    history.loc[5, "roc_auc_score"] = np.nan
    records = [r.to_dict() for r in _records(history)]
    assert [r["status"] for r in records] == ["ok", "failed", "ok", "not_finished", "ok", "timeout"]
    assert records[4]["parents"] == [0, 2] and records[4]["variation"] == "crossover"
    assert records[1]["score"] is None and records[1]["error"] == "exception"
    assert records[5]["error"] == "timeout" and "per_run_limit" in records[5]["reason"]
    assert records[0]["error"] is None and records[0]["reason"] is None
    assert json.loads(dumps_json(records)) == records


def test_reasons_from_the_evaluation_loop_become_error_and_reason():
    reasons = {"ind1": ("memory", "the worker used 900 MiB"), "ind0": ("timeout", "stale")}
    records = [r.to_dict() for r in _records(_tpot_like_history(), reasons)]
    assert records[1]["status"] == "failed"
    assert (records[1]["error"], records[1]["reason"]) == ("memory", "the worker used 900 MiB")
    assert all(r["reason"] is None for i, r in enumerate(records) if i != 1)


def test_leaderboard_ranks_by_score_then_simplicity():
    board = [entry.to_dict() for entry in leaderboard(_records(_tpot_like_history()), k=2)]
    assert [(e["rank"], e["id"]) for e in board] == [(1, 2), (2, 4)]
    assert board[0]["scores"] == {"roc_auc": 0.95}


def test_pareto_front_keeps_only_non_dominated():
    front = [point.to_dict() for point in pareto_front(_records(_tpot_like_history()))]
    assert [r["id"] for r in front] == [2, 5]


_record = st.fixed_dictionaries(
    {
        "id": st.integers(0, 10_000),
        "status": st.sampled_from(["ok", "failed"]),
        "score": st.floats(-1e6, 1e6, allow_nan=False),
        "complexity": st.none() | st.floats(0, 100, allow_nan=False),
        "pipeline": st.text(max_size=30),
        "metric": st.just("r2"),
        "submitted_at": st.none() | st.floats(0, 100),
        "generation": st.integers(0, 50),
    }
).map(lambda values: EvaluationRecord(**values))


@given(st.lists(_record, max_size=40, unique_by=lambda r: r.id))
def test_front_members_are_never_dominated_and_reports_round_trip(typed):
    front = [point.to_dict() for point in pareto_front(typed)]
    records = [record.to_dict() for record in typed]
    ok = [r for r in records if r["status"] == "ok"]
    for member in front:
        mc = member["complexity"] if member["complexity"] is not None else math.inf
        for other in ok:
            oc = other["complexity"] if other["complexity"] is not None else math.inf
            strictly_better = (other["score"] >= member["score"] and oc <= mc) and (
                other["score"] > member["score"] or oc < mc
            )
            assert not strictly_better
    board = [entry.to_dict() for entry in leaderboard(typed, k=5)]
    assert len(board) == min(5, len(ok))
    for document in (front, board, records):
        assert json.loads(dumps_json(document)) == document
    assert [EvaluationRecord.from_dict(r) for r in records] == list(typed)
