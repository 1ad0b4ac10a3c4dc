"""The documentation: the site builds warning-free, every public name is documented, the
generated pages cover the code, the getting-started page and the examples run as written.

The builds here run on a copy of ``docs/`` (with the README, the changelog and ``examples/``
beside it), so they never touch the generated fragments of a build in the working tree.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _extension():
    spec = importlib.util.spec_from_file_location(
        "automl_tpot_docs", DOCS / "_ext" / "automl_tpot_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("_build", "_generated", "__pycache__", "runs")
    shutil.copytree(DOCS, root / "docs", ignore=ignore)
    shutil.copytree(ROOT / "examples", root / "examples", ignore=ignore)
    for name in ("README.md", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, root / name)
    return root


def _build(root: Path, out: Path, *, execute: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, AUTOML_TPOT_DOCS_EXECUTE="1" if execute else "0")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(root / "docs"),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    root = _copy_tree(tmp_path)
    completed = _build(root, tmp_path / "html")
    assert completed.returncode == 0, completed.stderr
    pages = {p.stem for p in (tmp_path / "html").glob("*.html")}
    for page in (
        "index",
        "getting-started",
        "configuration",
        "tasks-and-metrics",
        "budgets",
        "tpot",
        "parallel",
        "storage-and-metrics",
        "alerts",
        "jobs",
        "plugins",
        "migration",
        "operations",
        "api",
        "cli",
        "artifacts",
        "examples",
        "changelog",
        "architecture",
    ):
        assert page in pages
    cli = (tmp_path / "html" / "cli.html").read_text(encoding="utf-8")
    assert "automl-tpot scheduler" in cli and "--idle-timeout" in cli
    configuration = (tmp_path / "html" / "configuration.html").read_text(encoding="utf-8")
    assert "TPOT__DASK_SCHEDULER_FILE" in configuration
    api = (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
    import automl_tpot

    for name in automl_tpot.__all__:
        assert f'id="automl_tpot.{name}"' in api, name


@pytest.mark.slow  # 20-80 s of a CI run's time; `pytest -m slow` runs it
def test_a_public_name_missing_from_the_api_page_fails_the_build(tmp_path):
    root = _copy_tree(tmp_path)
    api = root / "docs" / "api.md"
    text = api.read_text(encoding="utf-8")
    api.write_text(text.replace(".. autoexception:: automl_tpot.ClusterError\n", ""))
    completed = _build(root, tmp_path / "html")
    assert completed.returncode != 0
    assert "automl_tpot.ClusterError is in automl_tpot.__all__ but not documented" in (
        completed.stderr
    )


def test_the_configuration_table_has_every_field_and_variable():
    import attrs

    from automl_tpot import TrainerConfig
    from automl_tpot.config import ENV_VARIABLES

    table = _extension().configuration_table()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("|")[1].strip(" `") for row in rows] == [
        a.name for a in attrs.fields(TrainerConfig)
    ]
    for variable, name in ENV_VARIABLES.items():
        row = next(r for r in rows if r.startswith(f"| `{name}` "))
        assert f"`{variable}`" in row
    assert all(row.rstrip(" |").split("|")[-1].strip() for row in rows), "a field lacks a meaning"


def test_the_cli_reference_covers_every_command():
    text = _extension().cli_reference()
    for prog in (
        "automl-tpot",
        "automl-tpot train",
        "automl-tpot predict",
        "automl-tpot spaces",
        "automl-tpot spaces list",
        "automl-tpot spaces show",
        "automl-tpot scheduler",
        "automl-tpot worker",
    ):
        assert f"`{prog}`" in text
        assert f"usage: {prog}" in text


def _code_blocks(page: Path) -> list[tuple[str, str]]:
    text = page.read_text(encoding="utf-8")
    return re.findall(r"^```(bash|python)\n(.*?)^```", text, flags=re.S | re.M)


def _run_blocks(page: Path, work: Path, tmp_path: Path) -> None:
    """Every bash and Python block of ``page``, in order: installs in the repository root
    (where the pages say to run them), everything else in ``work``."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    for number, (language, code) in enumerate(_code_blocks(page)):
        cwd = ROOT if "pip install" in code else work
        if language == "python":
            script = tmp_path / f"{page.stem}_block_{number}.py"
            script.write_text(code, encoding="utf-8")
            command = [sys.executable, str(script)]
        else:
            command = ["bash", "-euo", "pipefail", "-c", code]
        completed = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )
        assert completed.returncode == 0, (
            f"{page.name} block {number} ({language}) failed:\n{code}\n"
            f"{completed.stdout}\n{completed.stderr}"
        )


@pytest.mark.slow
def test_getting_started_blocks_run_as_written(tmp_path):
    assert len(_code_blocks(DOCS / "getting-started.md")) >= 7
    work = tmp_path / "work"
    work.mkdir()
    _run_blocks(DOCS / "getting-started.md", work, tmp_path)
    assert (work / "predictions.csv").is_file()
    assert len([p for p in (work / "runs").iterdir() if (p / "run.json").is_file()]) == 3


@pytest.mark.slow
def test_the_plugin_walk_through_produces_a_working_plugin(tmp_path):
    """plugins.md's install, check and train steps, literally: the train step uses the example
    plugin's search space and its metrics backend."""
    work = tmp_path / "work"
    work.mkdir()
    _run_blocks(DOCS / "plugins.md", work, tmp_path)
    events = (work / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert '"event": "finished"' in events[-1] and '"status": "complete"' in events[-1]


@pytest.mark.slow
@pytest.mark.parametrize("name", _extension().EXAMPLES)
def test_the_examples_run(name, tmp_path):
    stdout, _ = _extension().run_example(ROOT / "examples" / f"{name}.py", tmp_path)
    assert stdout.strip()
    if name == "pareto_front":
        assert (tmp_path / "pareto_front.png").stat().st_size > 1000
