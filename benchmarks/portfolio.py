"""The offline study behind the ``auto`` space's portfolio: strong configurations tried in the
first generation, after each estimator's defaults, so that a short budget already returns a
strong model.

How they are chosen: on the training part (seed-0 split) of every table of ``suite.json`` (the
test parts are never read; ``suite_unseen.json`` and ``suite_large.json`` stay unseen), each
candidate configuration is cross-validated (5 folds, the run's default metric, the Trainer's
own preprocessing). Scores are normalised per table (the best candidate 1, the worst 0) and a
portfolio is grown greedily, starting from the estimator's defaults (always seeded anyway):
each step adds the candidate that most raises the mean over tables of the best normalised score
in the portfolio (the method of AutoGluon's and FLAML's zero-shot portfolios), separately for
classification and regression.

Usage::

    python benchmarks/portfolio.py    # about 45 minutes on 2 cores

It writes ``benchmarks/results/portfolio.json`` (every candidate's score on every table); the
``portfolio`` lists and the provenance fields go to ``src/automl_tpot/search_spaces/
portfolio.json``, which the ``auto`` space seeds from.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: Configurations added to each task's portfolio besides the defaults.
PORTFOLIO_SIZE = 3
CANDIDATES = 24


def candidates(task: str, seed: int = 0) -> list[dict[str, Any]]:
    """HistGradientBoosting configurations: the defaults, then random draws from the ranges the
    ``auto`` space searches (``search_spaces/tuned.py``)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = [{}]
    while len(out) < CANDIDATES:
        out.append(
            {
                "learning_rate": float(np.round(np.exp(rng.uniform(np.log(0.02), np.log(0.3))), 4)),
                "max_leaf_nodes": int(rng.choice([7, 15, 31, 63, 127])),
                "min_samples_leaf": int(rng.choice([2, 5, 10, 20, 50, 100])),
                "l2_regularization": float(rng.choice([1e-6, 0.01, 0.1, 1.0, 10.0])),
                "max_iter": int(rng.choice([100, 200, 400])),
                "max_features": float(rng.choice([0.3, 0.5, 0.8, 1.0])),
            }
        )
    return out


def _table(entry: dict[str, Any]):
    """The training part of a suite table as the Trainer prepares and preprocesses it."""
    import suite_data

    from automl_tpot.data import build_preprocessor, prepare_training_data
    from automl_tpot.search.plan import default_metric

    train, _test = suite_data.split(entry, 0)
    prepared = prepare_training_data(train, entry["target"], suite_data.task_of(entry), 5)
    preprocessor = build_preprocessor(prepared.feature_types, prepared.target_type)
    X = preprocessor.fit_transform(prepared.features, prepared.y)
    n_classes = None if prepared.classes is None else len(prepared.classes)
    return X, prepared.y, prepared.task, default_metric(prepared.task, n_classes), prepared.cv


def _score(X, y, task: str, metric: str, cv: int, params: dict[str, Any]) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    if task == "classification":
        model, folds = (
            HistGradientBoostingClassifier,
            StratifiedKFold(cv, shuffle=True, random_state=0),
        )
    else:
        model, folds = HistGradientBoostingRegressor, KFold(cv, shuffle=True, random_state=0)
    with threadpool_limits(1):
        scores = cross_val_score(model(random_state=0, **params), X, y, cv=folds, scoring=metric)
    return float(scores.mean())


def greedy_portfolio(normalised: list[list[float]], size: int) -> list[int]:
    """Candidate indices, the defaults (index 0) first, each next one raising most the mean over
    tables of the best normalised score in the portfolio."""
    chosen = [0]
    while len(chosen) < size + 1:

        def gain(j: int) -> float:
            return sum(max(row[i] for i in [*chosen, j]) for row in normalised) / len(normalised)

        best = max((j for j in range(len(normalised[0])) if j not in chosen), key=gain)
        chosen.append(best)
    return chosen


def main(argv: list[str] | None = None) -> int:
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", default=str(HERE / "suite.json"))
    parser.add_argument("--out", default=str(HERE / "results" / "portfolio.json"))
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    suite = json.loads(Path(args.suite).read_text())["datasets"]
    result: dict[str, Any] = {
        "study": "benchmarks/portfolio.py",
        "date": date.today().isoformat(),
        "tables": [entry["id"] for entry in suite],
        "how": __doc__.split("How they are chosen: ")[1].split("\n\nUsage")[0].replace("\n", " "),
    }
    for task in ("classification", "regression"):
        configs = candidates(task)
        tables = [e for e in suite if e.get("task", "classification") == task]
        normalised, raw = [], {}
        for entry in tables:
            started = time.monotonic()
            X, y, _task, metric, cv = _table(entry)
            scores = Parallel(n_jobs=args.n_jobs)(
                delayed(_score)(X, y, task, metric, cv, params) for params in configs
            )
            low, high = min(scores), max(scores)
            normalised.append([(s - low) / (high - low) if high > low else 1.0 for s in scores])
            raw[entry["id"]] = {"metric": metric, "scores": [round(s, 5) for s in scores]}
            print(f"{entry['id']}: {time.monotonic() - started:.0f}s, best {high:.4f}", flush=True)
        chosen = greedy_portfolio(normalised, PORTFOLIO_SIZE)
        mean = [sum(row[j] for row in normalised) / len(normalised) for j in range(len(configs))]
        result[task] = {
            "portfolio": [configs[j] for j in chosen[1:]],
            "defaults_mean_normalised": round(mean[0], 4),
            "portfolio_mean_best_normalised": round(
                sum(max(row[j] for j in chosen) for row in normalised) / len(normalised), 4
            ),
            "candidates": configs,
            "scores": raw,
        }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
