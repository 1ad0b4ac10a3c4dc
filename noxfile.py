"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s docs``, ``nox -s bench``."""

import nox

nox.options.sessions = ["lint", "tests"]


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite without the slow tests (pass ``-- -m slow`` for those)."""
    session.install("-e", ".[test]")
    args = session.posargs or ["-m", "not slow"]
    session.run("pytest", *args)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the sources and tests."""
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "benchmarks", "examples", "docs", "noxfile.py")


@nox.session
def docs(session: nox.Session) -> None:
    """The Sphinx site, warnings as errors, running the examples in examples/ (a few minutes).

    ``nox -s docs -- fast`` skips the examples (``AUTOML_TPOT_DOCS_EXECUTE=0``), as the test
    suite's ``tests/test_docs.py`` does.
    """
    session.install("-e", ".[docs]")
    env = {"AUTOML_TPOT_DOCS_EXECUTE": "0" if "fast" in session.posargs else "1"}
    session.run(
        "sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html", env=env
    )


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks in benchmarks/ (see benchmarks/README.md)."""
    session.install("-e", ".[bench]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(name="bench-parallel")
def bench_parallel(session: nox.Session) -> None:
    """Successful evaluations per minute against workers (benchmarks/parallel_scaling.py)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/parallel_scaling.py", *session.posargs)
