"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s typecheck``, ``nox -s docs``,
``nox -s bench``, ``nox -s lock``, ``nox -s release``."""

import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]

#: The extras the container image installs from deploy/requirements.lock.
LOCK_EXTRAS = ("s3", "prometheus", "dashboard", "report", "mlflow", "skops")
LOCK_COMMAND = [
    "uv", "pip", "compile", "pyproject.toml",
    *(f"--extra={extra}" for extra in LOCK_EXTRAS),
    "--generate-hashes", "--python-version=3.11", "--python-platform=x86_64-unknown-linux-gnu",
    "--custom-compile-command=nox -s lock", "--output-file=deploy/requirements.lock",
]  # fmt: skip


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
def typecheck(session: nox.Session) -> None:
    """mypy over the package, as a user's type checker sees it through ``py.typed``."""
    session.install("-e", ".[s3,prometheus,report]", "mypy>=1.10")
    session.run("mypy", "-p", "automl_tpot")


@nox.session
def lock(session: nox.Session) -> None:
    """Regenerate deploy/requirements.lock (hashed pins for Linux x86_64, CPython 3.11)."""
    session.install("uv>=0.5")
    session.run(*LOCK_COMMAND, *session.posargs)


@nox.session
def release(session: nox.Session) -> None:
    """Build the sdist and the wheel into a fresh dist/ and check them with twine."""
    session.install("build>=1.2", "twine>=6.1")
    shutil.rmtree("dist", ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", "dist", ".")
    session.run("twine", "check", "--strict", *(str(p) for p in Path("dist").glob("*")))


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
