"""The final choice after a search that ended on a sample: the search's choice, the anchors and
the next best pipelines fitted on the rows outside a held-out fold, on real Dask workers."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers.local_dask import local_client
from helpers.sleepers import SlowOnManyRows
from sklearn.datasets import make_classification
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from automl_tpot.ensemble import holdout, leaders
from automl_tpot.ensemble.candidates import Candidate, add_anchors, best_candidates
from automl_tpot.ensemble.holdout import choose_on_held_out_rows
from automl_tpot.ensemble.outcome import search_folds
from automl_tpot.ensemble.rounds import RoundFit, RowGrowth
from automl_tpot.tpot_boundary import SearchHistory
from automl_tpot.utils.pipelines import describe_pipeline


class _Individual:
    """What the stage reads from TPOT's ``Individual`` column."""

    def __init__(self, pipeline, uid: str):
        self.pipeline, self.uid = pipeline, uid

    def export_pipeline(self):
        return self.pipeline

    def unique_id(self):
        return self.uid


def _frame(rows: list[tuple], score_column: str = "roc_auc_score") -> pd.DataFrame:
    """A history: ``(individual, score, seconds, budget)`` per evaluation (a ``None`` score is
    one retired to the sample column, as on a smaller sample than the last)."""
    now = time.time()
    return pd.DataFrame(
        {
            score_column: [np.nan if r[1] is None else r[1] for r in rows],
            "Sample Score": [0.5 if r[1] is None else np.nan for r in rows],
            "Eval Error": [None] * len(rows),
            "Submitted Timestamp": [now - r[2] for r in rows],
            "Completed Timestamp": [now] * len(rows),
            "Budget": [r[3] for r in rows],
            "Individual": [r[0] for r in rows],
        }
    )


@pytest.fixture(scope="module")
def client():
    with local_client(n_workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=4_000, n_features=10, n_informative=6, random_state=0, flip_y=0.02
    )
    return X, y


def _choose(client, frame, anchors, X, y, deadline_in=60.0, **overrides):
    chosen = frame.loc[0, "Individual"].export_pipeline()
    values = dict(
        client=client,
        n_workers=2,
        history=SearchHistory(frame, "roc_auc_score"),
        best_key=0,
        chosen=chosen,
        anchors=anchors,
        X=X,
        y=y,
        task="classification",
        metric="roc_auc",
        cv=5,
        random_state=0,
        deadline=time.monotonic() + deadline_in,
        sample_fraction=0.1,
    )
    values.update(overrides)
    return choose_on_held_out_rows(**values)


def _held_out(X, y):
    return search_folds("classification", y, 5, 0)[0]


def test_an_anchor_that_scores_better_on_all_rows_replaces_the_searchs_choice(client, data):
    X, y = data
    stump = _Individual(DecisionTreeClassifier(max_depth=1, random_state=0), "stump")
    anchor = _Individual(HistGradientBoostingClassifier(random_state=0), "hgb")
    frame = _frame([(stump, 0.99, 0.2, 0.1), (anchor, None, 0.4, 0.05)])
    outcome = _choose(client, frame, [anchor], X, y)

    train, test = _held_out(X, y)
    assert outcome.holdout_rows == len(test) and outcome.candidates == 2
    assert outcome.replaced_by == describe_pipeline(anchor.pipeline)
    assert outcome.score > outcome.choice_score
    check_is_fitted(outcome.single)
    assert outcome.chosen("unused") is outcome.single
    # the score is the fitted rows' model on the held-out fold; a refit on all rows follows
    # when the fit says it ends in time (it does here: 4,000 rows)
    assert outcome.fitted_rows in (len(y), len(train))
    assert outcome.fit_seconds is not None and outcome.fit_seconds > 0  # what a refit costs
    if outcome.fitted_rows == len(train):
        expected = roc_auc_score(y[test], outcome.single.predict_proba(X[test])[:, 1])
        assert outcome.score == pytest.approx(expected)
    assert outcome.error is None and outcome.model is None


class _RecordingClient:
    """The real client, noting the rows each pipeline is fitted on."""

    def __init__(self, client):
        self.client, self.fitted = client, []

    def __getattr__(self, name):
        return getattr(self.client, name)

    def submit(self, function, *args, **kwargs):
        if function is holdout.fit_on_rows:
            self.fitted.append((describe_pipeline(args[0]), len(args[3])))
        return self.client.submit(function, *args, **kwargs)


def _rows_fitted_by_round(client, X, y):
    """The rows each of a choice and two anchors was fitted on, round after round (not the
    winner's refit on all rows), and the first round's rows."""
    stump = _Individual(DecisionTreeClassifier(max_depth=1, random_state=0), "stump")
    tree = _Individual(DecisionTreeClassifier(max_depth=3, random_state=0), "tree")
    anchor = _Individual(HistGradientBoostingClassifier(max_iter=20, random_state=0), "hgb")
    frame = _frame([(stump, 0.99, 0.2, 0.1), (tree, None, 0.2, 0.1), (anchor, None, 0.2, 0.1)])
    recording = _RecordingClient(client)
    outcome = _choose(recording, frame, [tree, anchor], X, y, combine=False)
    assert outcome.candidates == 3
    rounds = {}
    for individual in (stump, tree, anchor):
        rows = [n for d, n in recording.fitted if d == describe_pipeline(individual.pipeline)]
        rounds[individual.uid] = [n for n in rows if n < len(y)]
    return rounds, holdout.PROBE * 400  # PROBE times the search's last sample


def test_on_a_large_table_every_anchor_grows_with_the_searchs_choice(client, data, monkeypatch):
    X, y = data
    monkeypatch.setattr(leaders, "ALL_ANCHORS_ROWS", len(y))  # this table counts as large
    assert leaders.leading_fits(len(y)) == leaders.LEAD_MOST
    rounds, first_round = _rows_fitted_by_round(client, X, y)
    train, _test = _held_out(X, y)
    for name, rows in rounds.items():
        assert rows[0] == first_round and max(rows) == len(train) and len(rows) > 1, (name, rows)


def test_on_a_smaller_table_the_choice_and_the_first_anchor_grow(client, data):
    X, y = data
    assert len(y) < leaders.ALL_ANCHORS_ROWS and leaders.leading_fits(len(y)) == leaders.LEAD
    rounds, first_round = _rows_fitted_by_round(client, X, y)
    train, _test = _held_out(X, y)
    for name in ("stump", "tree"):
        assert max(rounds[name]) == len(train) and len(rounds[name]) > 1, (name, rounds)
    assert rounds["hgb"] == [first_round]  # fitted once, compared on the first round's rows


def test_a_slow_candidate_keeps_its_last_fit_and_the_others_their_larger_one(client, data):
    X, y = data
    choice = _Individual(HistGradientBoostingClassifier(max_iter=20, random_state=0), "hgb")
    slow = _Individual(SlowOnManyRows(rows=2_000, seconds=60.0), "slow")  # past the deadline
    frame = _frame([(choice, 0.99, 0.2, 0.1), (slow, None, 0.2, 0.1)])
    recording = _RecordingClient(client)
    outcome = _choose(recording, frame, [slow], X, y, deadline_in=8.0, combine=False)

    train, _test = _held_out(X, y)
    first_round = holdout.PROBE * 400
    fitted = {uid: [n for d, n in recording.fitted if d == describe_pipeline(i.pipeline)]
              for uid, i in (("hgb", choice), ("slow", slow))}  # fmt: skip
    assert fitted["slow"] == [first_round, len(train)]  # its second fit was cut at the deadline
    assert fitted["hgb"][:2] == [first_round, len(train)]
    # both are compared: the slow one on its first round's fit, the choice on its larger one
    assert outcome.candidates == 2 and outcome.replaced_by is None
    assert isinstance(outcome.single, HistGradientBoostingClassifier)
    assert outcome.fitted_rows >= len(train)


def test_the_searchs_choice_stays_when_it_scores_best(client, data):
    X, y = data
    boosting = _Individual(HistGradientBoostingClassifier(random_state=0), "hgb")
    stump = _Individual(DecisionTreeClassifier(max_depth=1, random_state=0), "stump")
    frame = _frame([(boosting, 0.99, 0.4, 0.1)])
    outcome = _choose(client, frame, [stump], X, y, combine=False)
    assert outcome.replaced_by is None and outcome.reason == "averaging is off (ensemble=False)"
    assert outcome.score == outcome.choice_score == outcome.best_single
    assert isinstance(outcome.single, HistGradientBoostingClassifier)
    check_is_fitted(outcome.single)


def test_an_average_that_beats_the_best_single_pipeline_is_the_model(client, data):
    X, y = data
    frame = _frame(
        [
            (_Individual(LogisticRegression(max_iter=2000), "linear"), 0.99, 0.2, 0.1),
            (_Individual(HistGradientBoostingClassifier(random_state=0), "hgb"), 0.98, 0.4, 0.1),
        ]
    )
    recording = _RecordingClient(client)
    outcome = _choose(recording, frame, [], X, y)
    assert outcome.candidates == 2
    if outcome.model is None:  # averaging may not help on this table: then it says so
        assert outcome.reason == "averaging did not improve the held-out score"
        check_is_fitted(outcome.single)
    else:
        assert outcome.score >= outcome.best_single and len(outcome.weights) == 2
        assert outcome.fit_seconds is not None and outcome.fit_seconds > 0  # both members'
        # with the time to spare, both members are refitted on all rows for the final model
        assert outcome.fitted_rows == len(y)
        assert [n for _, n in recording.fitted].count(len(y)) == 2
        for member in outcome.model.members_:
            check_is_fitted(member)
        assert outcome.model.predict_proba(X[:5]).shape == (5, 2)


def test_when_nothing_finishes_in_time_the_choice_is_fitted_on_the_last_sample(client, data):
    X, y = data
    choice = _Individual(HistGradientBoostingClassifier(random_state=0), "hgb")
    frame = _frame([(choice, 0.99, 0.4, 0.1)])
    outcome = _choose(client, frame, [], X, y, deadline_in=-1.0)
    assert outcome.reason.startswith("no fit on all rows finished in time")
    assert outcome.fitted_rows == 400 and outcome.holdout_rows == 0 and outcome.score is None
    check_is_fitted(outcome.single)


def test_an_anchor_costs_what_its_own_evaluation_did_scaled_to_all_rows():
    choice = _Individual(LogisticRegression(), "linear")
    anchor = _Individual(HistGradientBoostingClassifier(), "hgb")
    never = _Individual(HistGradientBoostingClassifier(max_iter=7), "never")
    history = SearchHistory(
        _frame([(choice, 0.9, 0.5, 0.5), (anchor, None, 0.5, 0.25)]), "roc_auc_score"
    )
    scored = best_candidates(history, "classification", 0)
    candidates, leading = add_anchors(scored, [anchor, never], history)
    assert leading == 3
    assert [c.description for c in candidates] == [
        describe_pipeline(choice.pipeline),
        describe_pipeline(anchor.pipeline),
        describe_pipeline(never.pipeline),
    ]
    assert candidates[1].key is None
    assert candidates[1].fraction == 0.25
    assert candidates[1].full_seconds == pytest.approx(2.0, abs=0.2)
    # never evaluated: the most expensive candidate of its family, else of all of them
    assert candidates[2].full_seconds == pytest.approx(candidates[0].full_seconds)
    # the choice itself is not added twice
    assert add_anchors(candidates[:1], [choice], history) == (candidates[:1], 1)


def test_an_anchor_the_search_scored_below_others_moves_up_to_lead():
    choice = _Individual(LogisticRegression(), "linear")
    forest = _Individual(ExtraTreesClassifier(n_estimators=5), "trees")
    anchor = _Individual(HistGradientBoostingClassifier(), "hgb")
    history = SearchHistory(
        _frame([(choice, 0.9, 0.5, 0.5), (forest, 0.85, 0.5, 0.5), (anchor, 0.8, 0.5, 0.5)]),
        "roc_auc_score",
    )
    scored = best_candidates(history, "classification", 0)
    assert [c.description for c in scored][1] == describe_pipeline(forest.pipeline)
    candidates, leading = add_anchors(scored, [anchor], history)
    assert leading == 2
    assert [c.description for c in candidates] == [
        describe_pipeline(p.pipeline) for p in (choice, anchor, forest)
    ]
    assert candidates[1].key is not None  # the search's own evaluation, kept


def test_the_first_fits_are_sized_from_the_searchs_durations():
    def candidate(seconds: float, fraction: float) -> Candidate:
        return Candidate(0, None, "p", seconds / fraction, fraction)

    # 1 s for 5 fits on a tenth of the rows: 7 s (70 % of 10) buy the whole table
    assert holdout._estimated_share([candidate(1.0, 0.1)], 2, 10.0, 5) == 1.0
    # 10 s on a hundredth: a fit on a share s costs 2 s * (s / 0.01) ** 0.9
    share = holdout._estimated_share([candidate(10.0, 0.01)], 2, 10.0, 5)
    assert share == pytest.approx(0.01 * 3.5 ** (1 / 0.9))
    # the slower of the two leading candidates decides; the third does not count
    lead = [candidate(1.0, 0.1), candidate(10.0, 0.01), candidate(1000.0, 0.01)]
    assert holdout._estimated_share(lead, 2, 10.0, 5) == pytest.approx(share)
    # unknown durations: all rows (the deadline still bounds the fits)
    assert holdout._estimated_share([Candidate(0, None, "p", np.inf)], 2, 1, 5) == 1.0


class _Done:
    """A finished future of ``value``."""

    status = "finished"

    def __init__(self, value):
        self.value = value

    def result(self, timeout=None):
        return self.value


def _lead_fit(seconds, rows=1_000):
    return RoundFit(None, None, _Done(seconds), rows=rows, size=None)


def test_a_further_round_grows_the_rows_by_what_the_last_fits_took():
    deadline = time.monotonic() + 10.0
    # 0.1 s for 1,000 rows: 7 s buy far more than the 50,000 there are
    assert RowGrowth().next_rows([_lead_fit(0.1), _lead_fit(0.05)], deadline, 50_000) == 50_000
    grown = RowGrowth().next_rows([_lead_fit(1.0)], deadline, 50_000)
    assert 8_500 < grown < 8_700  # (7 s / 1 s) ** (1 / 0.9) = 8.69 times the rows
    # less than 1.5 times the rows is not worth a round; nor an unfinished last one
    assert RowGrowth().next_rows([_lead_fit(5.0)], deadline, 50_000) == 0
    pending = RoundFit(None, None, SimpleNamespace(status="pending"), rows=1_000, size=None)
    assert RowGrowth().next_rows([pending], deadline, 50_000) == 0
    # four fits on two workers: a round lasts about twice as long as its slowest fit
    alone = RowGrowth(n_workers=2).next_rows([_lead_fit(1.0)], deadline, 10**9)
    shared = RowGrowth(n_workers=2).next_rows([_lead_fit(1.0)] * 4, deadline, 10**9)
    assert shared == pytest.approx(alone * 0.5 ** (1 / 0.9), rel=0.01)


def test_the_second_round_measures_how_the_fits_grow_and_sizes_the_third_by_it():
    deadline = time.monotonic() + 10.0
    growth = RowGrowth()
    assert growth.next_rows([_lead_fit(1.0, rows=1_000)], deadline, 10**7) > 0
    assert growth.scaling == holdout.FIT_SCALING  # one round: nothing measured yet
    # 16 times the rows took 4 times the seconds: the power 0.5, kept at its floor of 0.6
    third = growth.next_rows([_lead_fit(4.0, rows=16_000)], deadline, 10**7)
    assert growth.scaling == holdout.MEASURED_SCALING[0]
    expected = 16_000 * (holdout.FIT_SHARE * 10.0 / 4.0) ** (1 / 0.6)
    assert third == pytest.approx(expected, rel=0.01)
    # a fit that grew faster than the rows: linear at most
    growth.next_rows([_lead_fit(20.0, rows=32_000)], deadline, 10**7)
    assert growth.scaling == holdout.MEASURED_SCALING[1]


def test_the_note_says_so_when_the_searchs_choice_did_not_finish_on_all_rows():
    from automl_tpot.ensemble import EnsembleOutcome
    from automl_tpot.run.assemble import _stage_choice

    replaced = EnsembleOutcome(
        single="the anchor's model", score=0.76, best_single=0.76, candidates=1,
        holdout_rows=1_000, fitted_rows=4_000, replaced_by="HGB()", choice_score=None,
    )  # fmt: skip
    model, score, note = _stage_choice(replaced, None, 0.9, "roc_auc")
    assert (model, score) == ("the anchor's model", 0.76)
    assert note.endswith("the search's choice did not finish in time") and "HGB()" in note
    replaced.choice_score = 0.7
    assert _stage_choice(replaced, None, 0.9, "roc_auc")[2].endswith(
        "against 0.7000 for the search's choice"
    )


def test_a_model_too_large_to_hold_twice_keeps_its_fit_on_the_folds_rows(client, data, monkeypatch):
    X, y = data
    boosting = _Individual(HistGradientBoostingClassifier(random_state=0), "hgb")
    frame = _frame([(boosting, 0.99, 0.4, 0.1)])
    train, _ = _held_out(X, y)
    # with ample time (the stage ends as soon as it is done) and room in memory, the choice
    # is refitted on all rows
    ample = dict(combine=False, deadline_in=600.0)
    assert _choose(client, frame, [], X, y, **ample).fitted_rows == len(y)
    # a model larger than what the run may hold twice keeps the fit it was scored with
    monkeypatch.setattr(holdout, "REFIT_MEMORY_FLOOR", 0)
    monkeypatch.setattr(holdout, "REFIT_MEMORY_FACTOR", 0.0)
    outcome = _choose(client, frame, [], X, y, **ample)
    assert outcome.fitted_rows == len(train)
    check_is_fitted(outcome.single)


def test_a_models_bytes_are_counted_as_pickled_and_the_limit_follows_the_matrix(data):
    import pickle

    import cloudpickle

    from automl_tpot.ensemble.candidates import model_bytes

    X, y = data
    model = ExtraTreesClassifier(n_estimators=5, random_state=0).fit(X, y)
    assert model_bytes((model, 1.0)) == len(cloudpickle.dumps(model, pickle.HIGHEST_PROTOCOL))
    assert model_bytes(None) is None
    assert holdout.refit_memory_limit(X) == holdout.REFIT_MEMORY_FLOOR  # 320 kB of rows
    wide = np.zeros((100_000, 200))  # 160 MB
    assert holdout.refit_memory_limit(wide) == holdout.REFIT_MEMORY_FACTOR * wide.nbytes
    frame = pd.DataFrame(wide)
    assert holdout.refit_memory_limit(frame) == holdout.REFIT_MEMORY_FACTOR * wide.nbytes


def test_the_bytes_that_grow_with_the_rows_are_a_forests_nodes_and_a_knns_rows(data):
    import pickle

    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from automl_tpot.ensemble.candidates import row_bound_bytes
    from automl_tpot.model.ensemble import WeightedEnsemble

    X, y = data
    forest = make_pipeline(StandardScaler(), ExtraTreesClassifier(20, random_state=0)).fit(X, y)
    counted = row_bound_bytes((forest, 1.0))
    assert counted == pytest.approx(len(pickle.dumps(forest)), rel=0.01)  # nodes are most of it
    smaller = ExtraTreesClassifier(20, random_state=0).fit(X[:1_000], y[:1_000])
    assert row_bound_bytes((smaller, 1.0)) < counted / 3  # a quarter of the rows
    neighbours = KNeighborsClassifier().fit(X, y)
    assert row_bound_bytes((neighbours, 1.0)) == X.nbytes
    boosting = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    assert row_bound_bytes((boosting, 1.0)) == 0  # bounded by its leaves and iterations
    both = WeightedEnsemble.from_fitted([forest, boosting], [0.5, 0.5], "classification")
    assert row_bound_bytes((both, 1.0)) == counted
    assert row_bound_bytes(None) is None


def test_a_round_grows_the_leading_models_only_as_far_as_the_memory_allows():
    from automl_tpot.ensemble.rounds import MIN_GROWTH, rows_within_memory

    mb = 2**20
    # 40 MB on 10,000 rows; 128 MB allowed: 32,000 rows, not the 50,000 the time buys
    assert rows_within_memory(10_000, 50_000, [30 * mb, 10 * mb], 128 * mb) == 32_000
    assert rows_within_memory(10_000, 20_000, [30 * mb, 10 * mb], 128 * mb) == 20_000
    # less than MIN_GROWTH times the rows is no round at all
    assert rows_within_memory(10_000, 50_000, [100 * mb], 128 * mb) == 0
    assert MIN_GROWTH * 10_000 > 12_800
    # nothing that grows with the rows, or a size not known: what the time buys
    assert rows_within_memory(10_000, 50_000, [0, 0], 128 * mb) == 50_000
    assert rows_within_memory(10_000, 50_000, [None, 30 * mb], 128 * mb) == 50_000


def test_models_refitted_on_all_rows_hold_their_fixed_bytes_and_their_grown_ones_scaled():
    from automl_tpot.ensemble.rounds import bytes_on_all_rows

    # a forest (90 of its 100 bytes grow with its 1,000 rows) and a boosting model (none do)
    assert bytes_on_all_rows([100, 50], [90, 0], [1_000, 1_000], 4_000) == 100 + 3 * 90 + 50
    assert bytes_on_all_rows([100, None], [90, 0], [1_000, 1_000], 4_000) is None
    assert bytes_on_all_rows([100], [None], [1_000], 4_000) is None


def test_a_forest_grows_only_as_far_as_the_memory_limit_allows(client, data, monkeypatch):
    from automl_tpot.ensemble.candidates import row_bound_bytes

    X, y = data
    forest = _Individual(ExtraTreesClassifier(n_estimators=30, random_state=0), "forest")
    frame = _frame([(forest, 0.99, 0.2, 0.1)])
    first_round = holdout.PROBE * 400
    first = ExtraTreesClassifier(n_estimators=30, random_state=0)
    nodes = row_bound_bytes((first.fit(X[:first_round], y[:first_round]), 1.0))
    monkeypatch.setattr(holdout, "REFIT_MEMORY_FACTOR", 0.0)

    def rows_fitted(limit: float) -> tuple[list[int], int]:
        monkeypatch.setattr(holdout, "REFIT_MEMORY_FLOOR", limit)
        recording = _RecordingClient(client)
        outcome = _choose(recording, frame, [], X, y, combine=False, deadline_in=600.0)
        rows = [n for d, n in recording.fitted if d == describe_pipeline(forest.pipeline)]
        return rows, outcome.fitted_rows

    train, _test = _held_out(X, y)
    # room for the forest on 1.8 times its first round's rows (the time buys all 3,200)
    rows, fitted_rows = rows_fitted(1.8 * nodes)
    assert rows[0] == first_round and 1.5 * first_round <= rows[1] < len(train), rows
    # nor refitted on all rows, where its nodes would grow past the limit too (how the sizes
    # add up: test_models_refitted_on_all_rows_hold_their_fixed_bytes_and_their_grown_ones...)
    assert fitted_rows == rows[1] == max(rows)
    # with room for it on all rows: every round, then the refit
    rows, fitted_rows = rows_fitted(10 * nodes)
    assert max(rows) == fitted_rows == len(y) and len(train) in rows, rows


def test_the_stages_leading_costs_are_the_best_and_the_anchors_not_the_best_few():
    cheap = [
        _Individual(LogisticRegression(C=c), f"linear{c}") for c in (1.0, 2.0, 3.0)
    ]  # fmt: skip
    anchor = _Individual(HistGradientBoostingClassifier(random_state=0), "hgb")
    frame = _frame([(cheap[0], 0.99, 0.2, 0.1), (cheap[1], 0.98, 0.2, 0.1),
                    (cheap[2], 0.97, 0.2, 0.1), (anchor, 0.9, 4.0, 0.1)])  # fmt: skip
    history = SearchHistory(frame, "roc_auc_score")
    best = history.best_durations()
    costs = leaders.leading_costs(history, [anchor], "classification", 50_000)
    # the search's best, then the anchor it scored last, at what its evaluation cost
    assert costs.tolist() == pytest.approx([best[0], 20 * best[0]])
    assert leaders.leading_costs(history, [], "classification", 50_000).tolist() == (
        pytest.approx(best[:2].tolist())
    )
    assert len(leaders.leading_costs(SearchHistory(frame.iloc[:0], "roc_auc_score"), [anchor],
                                     "classification", 50_000)) == 0  # fmt: skip


def test_the_leading_candidates_are_clamped_by_the_tables_rows():
    choice = _Individual(LogisticRegression(), "linear")
    anchors = [_Individual(HistGradientBoostingClassifier(max_iter=m), f"hgb{m}")
               for m in (10, 20, 30, 40)]  # fmt: skip
    history = SearchHistory(_frame([(choice, 0.9, 0.5, 0.5)]), "roc_auc_score")
    small = leaders.ALL_ANCHORS_ROWS - 1
    candidates, leading = leaders.leading_candidates(history, "classification", 0, anchors, small)
    assert len(candidates) == 5 and leading == leaders.LEAD
    _, leading = leaders.leading_candidates(
        history, "classification", 0, anchors, leaders.ALL_ANCHORS_ROWS
    )
    assert leading == leaders.LEAD_MOST
    # with nothing comparable scored there is nothing to lead
    empty = SearchHistory(_frame([(choice, 0.9, 0.5, 0.5)]).iloc[:0], "roc_auc_score")
    assert leaders.leading_candidates(empty, "classification", None, anchors, small) == ([], 0)


def test_a_sampled_searchs_reserve_is_sized_by_the_stages_leading_fits():
    from automl_tpot.search.budget import SearchDeadline

    cheap = _Individual(LogisticRegression(), "linear")
    frame = _frame([(cheap, 0.99, 0.2, 0.1), (cheap, 0.98, 0.2, 0.1)])
    history = SearchHistory(frame, "roc_auc_score")
    now = time.time()

    def deadline(lead_costs=None):
        return SearchDeadline(
            run_end=now + 60, planned_end=now + 30, refit_reserve=6, ensemble_reserve=6,
            cv=5, n_workers=1, sampled_reserve=27, lead_costs=lead_costs,
        )  # fmt: skip

    # the search's best few alone: cheap
    fold = history.best_durations()[:2] / 5
    cheap_reserve = max(3.0, 2.0 + max(fold.max(), fold.sum()) / 0.7)
    assert deadline().reserves(history)[0] == pytest.approx(cheap_reserve) and cheap_reserve < 4
    # an anchor that costs 50 s on all rows and folds: 10 s a fold, 2 + 10.2 / 0.7 in all
    costs = deadline(lambda _history: np.array([1.0, 50.0])).reserves(history)[0]
    assert costs == pytest.approx(2.0 + 10.2 / 0.7)

    # costs that cannot be read leave the search's best to stand for them
    def unreadable(_history):
        raise ValueError("an individual TPOT cannot export")

    assert deadline(unreadable).reserves(history)[0] == pytest.approx(cheap_reserve)


def test_a_fit_on_all_rows_reads_the_matrix_itself_and_one_on_some_a_copy(data):
    from automl_tpot.ensemble.candidates import _rows

    X, _y = data
    assert _rows(X, np.arange(len(X))) is X
    some = _rows(X, np.arange(10))
    assert some.shape == (10, X.shape[1]) and not np.shares_memory(some, X)
    shuffled = np.random.default_rng(0).permutation(len(X))
    assert np.array_equal(_rows(X, shuffled), X[shuffled])  # all rows, another order: a copy
    frame = pd.DataFrame(X)
    assert _rows(frame, np.arange(len(X))) is frame and len(_rows(frame, np.arange(5))) == 5
