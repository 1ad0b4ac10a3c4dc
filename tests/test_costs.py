"""The cost model: cheap pipelines first, stragglers capped from what the search has seen."""

from __future__ import annotations

import pytest

from automl_tpot.cluster.costs import CAP_FACTOR, CAP_FLOOR, CostModel


def test_before_anything_finished_the_priors_order_the_families():
    costs = CostModel()
    order = sorted(
        ["RandomForestRegressor", "Ridge", "HistGradientBoostingRegressor", "ExtraTreesRegressor"],
        key=lambda family: costs.estimate(family, 1.0),
    )
    assert order == [
        "Ridge",
        "HistGradientBoostingRegressor",
        "ExtraTreesRegressor",
        "RandomForestRegressor",
    ]


def test_observed_costs_win_over_priors_and_scale_with_the_rows():
    costs = CostModel()
    costs.observe("RandomForestClassifier", 0.5, work=0.25)  # 2 s on all rows
    costs.observe("HistGradientBoostingClassifier", 2.0, work=0.5)  # 4 s on all rows
    assert costs.estimate("RandomForestClassifier", 1.0) == pytest.approx(2.0)
    assert costs.estimate("HistGradientBoostingClassifier", 0.5) == pytest.approx(2.0)
    # an unseen family: its prior, scaled by what the seen ones cost per unit of prior
    scale = (2.0 / 2.5 + 4.0 / 1.0) / 2  # the median of the two ratios is their mean
    assert costs.estimate("Ridge", 1.0) == pytest.approx(0.1 * scale)


def test_the_cap_waits_for_the_family_then_stops_its_stragglers_never_below_the_floor():
    costs = CostModel()
    for _ in range(3):
        costs.observe("LogisticRegression", 0.2, 1.0)
    # no forest has finished yet: the configured limit, however cheap the others were
    assert costs.cap("RandomForestClassifier", 1.0, 60.0) == 60.0
    assert costs.cap("LogisticRegression", 1.0, 60.0) == CAP_FLOOR
    costs.observe("RandomForestClassifier", 2.5, work=0.25)  # 10 s on all rows
    assert costs.cap("RandomForestClassifier", 0.5, 60.0) == pytest.approx(CAP_FACTOR * 5.0)
    assert costs.cap("RandomForestClassifier", 1.0, 12.0) == 12.0  # never over the limit
    assert costs.cap("RandomForestClassifier", 1.0, None) == pytest.approx(CAP_FACTOR * 10.0)
