"""The release: one version source, a wheel that carries every file and runs without the source
tree, a hashed lock that covers pyproject's dependencies, an image recipe that names only files
that exist, a changelog section for the version.

The slow tests build the sdist and the wheel from this checkout and install them into fresh
virtual environments from the package index (minutes each); the fast ones read files only.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import automl_tpot

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "automl_tpot"
DEPLOY = ROOT / "deploy"
LOCK = DEPLOY / "requirements.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
REPOSITORY = "https://github.com/automl-tpot/automl-tpot"
REGENERATE = "regenerate it with `nox -s lock` (see deploy/README.md)"
#: The environment the lock is resolved for (noxfile.py's LOCK_COMMAND, the image's Python).
LOCK_ENVIRONMENT = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
}


# --- one version source ------------------------------------------------------------------------


def test_the_version_is_the_installed_metadata_of_pyproject():
    installed = importlib.metadata.version("automl-tpot")
    assert installed == VERSION, (
        f"installed metadata says {installed}, pyproject.toml {VERSION}: reinstall the package"
    )
    assert automl_tpot.__version__ == VERSION
    source = (PACKAGE / "__init__.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*__version__ = [\"']\d+\.\d+", source, re.MULTILINE), (
        "the version is read from the metadata, never written in the source"
    )


def test_cli_version_flag_prints_the_version(capsys):
    from automl_tpot.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"automl-tpot {VERSION}\n"


# --- metadata ----------------------------------------------------------------------------------


def _classified_pythons() -> list[str]:
    prefix = "Programming Language :: Python :: "
    return [
        c.removeprefix(prefix)
        for c in PYPROJECT["project"]["classifiers"]
        if re.fullmatch(re.escape(prefix) + r"3\.\d+", c)
    ]


def test_metadata_has_spdx_licence_urls_and_python_classifiers_that_agree():
    project = PYPROJECT["project"]
    assert project["license"] == "LGPL-3.0-or-later"
    for name in project["license-files"]:
        assert (ROOT / name).is_file(), name
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert not any(c.startswith("License ::") for c in project["classifiers"]), (
        "PEP 639: the licence expression replaces licence classifiers"
    )
    urls = project["urls"]
    assert set(urls) >= {"Documentation", "Changelog", "Source", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())
    assert urls["Source"] == REPOSITORY
    pythons = _classified_pythons()
    assert pythons, "no Programming Language :: Python :: 3.X classifier"
    lowest = min(pythons, key=lambda v: tuple(map(int, v.split("."))))
    assert project["requires-python"] == f">={lowest}"
    assert "Typing :: Typed" in project["classifiers"]
    setuptools_pin = next(r for r in PYPROJECT["build-system"]["requires"] if "setuptools" in r)
    assert Requirement(setuptools_pin).specifier.contains("77"), (
        "license-files and an SPDX license need setuptools 77"
    )


def test_the_installed_package_is_marked_typed():
    marker = Path(automl_tpot.__file__).parent / "py.typed"
    assert marker.is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["automl_tpot"]


# --- the lock ----------------------------------------------------------------------------------


def _lock_pins() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) for every requirement in the lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():
            requirement = Requirement(stripped.rstrip("\\").strip())
            specifiers = list(requirement.specifier)
            assert len(specifiers) == 1 and specifiers[0].operator == "==", (
                f"{stripped!r} in deploy/requirements.lock is not an exact pin; {REGENERATE}"
            )
            current = canonicalize_name(requirement.name)
            pins[current] = (specifiers[0].version, [])
        else:
            assert current is not None and stripped.startswith("--hash=sha256:"), stripped
            pins[current][1].append(stripped.rstrip("\\").strip())
    return pins


def _lock_extras() -> tuple[str, ...]:
    """noxfile.py's LOCK_EXTRAS, the extras ``nox -s lock`` resolves."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "LOCK_EXTRAS" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("noxfile.py defines no LOCK_EXTRAS")


def _project_requirements(extras: tuple[str, ...]) -> Iterator[Requirement]:
    """pyproject's core dependencies and those of ``extras``, self-references expanded."""
    project = PYPROJECT["project"]
    optional = project["optional-dependencies"]
    seen: set[str] = set()
    pending = list(extras)
    for text in project["dependencies"]:
        yield Requirement(text)
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in optional[extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
                pending.extend(requirement.extras)
            else:
                yield requirement


def test_the_lock_pins_every_dependency_with_hashes():
    extras = _lock_extras()
    assert set(extras) >= {"s3", "prometheus", "dashboard"}
    pins = _lock_pins()
    assert len(pins) > 20
    unhashed = sorted(name for name, (_, hashes) in pins.items() if not hashes)
    assert not unhashed, f"no --hash for {unhashed} in deploy/requirements.lock; {REGENERATE}"
    assert canonicalize_name("automl-tpot") not in pins, "the lock holds dependencies only"
    for requirement in _project_requirements(extras):
        if requirement.marker is not None and not requirement.marker.evaluate(LOCK_ENVIRONMENT):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, (
            f"pyproject.toml needs {requirement}, which deploy/requirements.lock does not pin; "
            f"{REGENERATE}"
        )
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"deploy/requirements.lock pins {name}=={version}, outside pyproject.toml's "
            f"{requirement}; {REGENERATE}"
        )
    header = LOCK.read_text(encoding="utf-8").splitlines()[:3]
    assert any(line.strip("# ") == "nox -s lock" for line in header), header


# --- the image recipe --------------------------------------------------------------------------


def _dockerfile_instructions(text: str) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):  # a comment, also inside a continued instruction
            continue
        if line.rstrip().endswith("\\"):
            logical += line.rstrip()[:-1] + " "
            continue
        logical += line
        if logical.strip():
            instruction, _, arguments = logical.strip().partition(" ")
            yield instruction.upper(), arguments.strip()
        logical = ""


def _copy_sources(arguments: str) -> list[str]:
    parts = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
    parts = [p for p in parts if not p.startswith("--")]
    assert len(parts) >= 2, arguments
    return parts[:-1]


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_image_recipe_and_compose_file_name_only_files_that_exist():
    compose = _compose()
    built = [s["build"] for s in compose["services"].values() if "build" in s]
    assert built, "no service builds the image"
    for build in built:
        context = (DEPLOY / build["context"]).resolve()
        assert context.is_dir(), build
        dockerfile = context / build["dockerfile"]
        assert dockerfile.is_file(), build
        copied = [
            source
            for instruction, arguments in _dockerfile_instructions(dockerfile.read_text())
            if instruction in ("COPY", "ADD") and "--from" not in arguments
            for source in _copy_sources(arguments)
        ]
        assert copied
        for source in copied:
            assert list(context.glob(source)), f"{dockerfile.name} copies {source!r}: no such file"
    # the project's build inputs are all copied, or `pip install .` fails in the image
    needed = {"pyproject.toml", "README.md", "src", *PYPROJECT["project"]["license-files"]}
    missing = needed - set(copied)
    assert not missing, f"deploy/Dockerfile does not copy {sorted(missing)}; the build needs them"
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            if source and source.startswith((".", "/")):
                assert (DEPLOY / source).exists(), volume
        for env_file in service.get("env_file", []) or []:
            assert (DEPLOY / env_file).is_file(), env_file
    # every repository path the two files mention (comments included)
    for name in ("Dockerfile", "docker-compose.yml"):
        for path in re.findall(r"\bdeploy/[\w./-]*\w", (DEPLOY / name).read_text()):
            assert (ROOT / path).exists(), f"deploy/{name} names {path}, which does not exist"


def test_the_image_installs_the_lock_with_hashes_and_the_package_without_resolving():
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    runs = [args for instruction, args in _dockerfile_instructions(text) if instruction == "RUN"]
    assert any(
        "pip install --require-hashes --requirement deploy/requirements.lock" in r for r in runs
    )
    assert any("pip install --no-deps ." in r for r in runs)
    assert re.search(r"^FROM python:3\.11\b", text, re.MULTILINE), "the lock is for CPython 3.11"
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for needed in ("nox -s lock", "uv pip compile", "docker compose", "8787", "tpot-worker"):
        assert needed in readme, needed


# --- changelog and upgrade notes ---------------------------------------------------------------


def test_the_changelog_has_a_dated_section_for_this_version_and_link_references():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](.*)$", text, re.MULTILINE)
    assert headings[0] == ("Unreleased", ""), "the first section is [Unreleased]"
    released = {name: rest for name, rest in headings[1:]}
    assert VERSION in released, f"CHANGELOG.md has no ## [{VERSION}] section"
    assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", released[VERSION]), released[VERSION]
    versions = [name for name, _ in headings[1:]]
    assert f"[Unreleased]: {REPOSITORY}/compare/v{versions[0]}...HEAD" in text
    for newer, older in zip(versions, versions[1:], strict=False):
        assert f"[{newer}]: {REPOSITORY}/compare/v{older}...v{newer}" in text
    assert f"[{versions[-1]}]: {REPOSITORY}/releases/tag/v{versions[-1]}" in text
    section = text.split(f"## [{VERSION}]", 1)[1].split("\n## ", 1)[0]
    subsections = re.findall(r"^### (.+)$", section, re.MULTILINE)
    assert subsections and set(subsections) <= {
        "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security",
    }  # fmt: skip
    upgrading = (ROOT / "docs" / "upgrading.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(VERSION)}\b", upgrading, re.MULTILINE), (
        f"docs/upgrading.md has no section for {VERSION}"
    )
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert re.search(r"^upgrading$", index, re.MULTILINE), "docs/index.md's toctree lacks upgrading"


# --- the built wheel, installed elsewhere (slow) -----------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel built from this checkout (the wheel from the sdist), checked."""
    pytest.importorskip("build", reason="python -m build: install the dev extra")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    (wheel,) = out.glob("automl_tpot-*.whl")
    (sdist,) = out.glob("automl_tpot-*.tar.gz")
    if importlib.util.find_spec("twine") is not None:
        checked = subprocess.run(
            [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
    return {"wheel": wheel, "sdist": sdist}


@pytest.mark.slow
def test_the_wheel_carries_every_file_of_the_package_and_the_metadata(dist):
    wheel = dist["wheel"]
    assert wheel.name == f"automl_tpot-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"automl_tpot-{VERSION}.dist-info/METADATA").decode()
    packaged = {n for n in names if n.startswith("automl_tpot/")}
    source = {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert source - packaged == set(), "files of src/automl_tpot missing from the wheel"
    assert packaged - source == set(), "files in the wheel that src/automl_tpot does not have"
    for license_file in PYPROJECT["project"]["license-files"]:
        assert f"automl_tpot-{VERSION}.dist-info/licenses/{license_file}" in names
    assert "License-Expression: LGPL-3.0-or-later" in metadata
    assert f"Project-URL: Source, {REPOSITORY}" in metadata
    assert f"Requires-Python: {PYPROJECT['project']['requires-python']}" in metadata
    for python in _classified_pythons():
        assert f"Classifier: Programming Language :: Python :: {python}" in metadata
    assert "Provides-Extra: dashboard" in metadata


def _clean_env(venv_dir: Path) -> dict[str, str]:
    """The environment of a user who installed the wheel: no source tree, only the venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
        and not k.startswith(("TPOT", "ENABLE_AUTOML"))
    }
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv_dir)
    return env


def _fresh_venv(python: str, where: Path) -> Path:
    """A virtual environment of ``python`` that sees no other site-packages."""
    subprocess.run([python, "-m", "venv", str(where)], check=True, timeout=300)
    assert "include-system-site-packages = false" in (where / "pyvenv.cfg").read_text()
    return where


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 1800):
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def _check_stored_run(run_dir: Path, version: str) -> dict:
    """run.json parses, names the installed version, and every artifact matches its record."""
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert manifest["versions"]["automl-tpot"] == version
    assert set(manifest["artifacts"]) >= {
        "model.joblib", "leaderboard.json", "tp_pareto_front.json", "evaluated_individuals.json",
    }  # fmt: skip
    for name, record in manifest["artifacts"].items():
        data = (run_dir / name).read_bytes()
        assert len(data) == record["bytes"], name
        assert hashlib.sha256(data).hexdigest() == record["sha256"], name
        if name.endswith(".json"):
            json.loads(data)
    return manifest


JOB_SCRIPT = """
import json, sys
from sklearn.datasets import load_diabetes
from automl_tpot import FilesystemStorage, load_model, run_for_job

table = load_diabetes(as_frame=True).frame.head(150)
storage = FilesystemStorage("jobs")
payload = {"dataset_id": "diabetes", "target_column": "target", "time_left": 30,
           "generations": 2, "population_size": 4, "cv": 3, "random_state": 0}
record = run_for_job(payload, load_dataset=lambda _: table, storage=storage, run_id="job-1",
                     n_jobs=1)
predictions = load_model(storage, "job-1").predict(table.drop(columns="target").head(5))
assert predictions.shape == (5,), predictions.shape
print(json.dumps(record))
"""

TYPED_SCRIPT = """
import automl_tpot

version: str = automl_tpot.__version__
config = automl_tpot.TrainerConfig(time_left=30)
seconds: float | None = config.time_left
wrong: int = automl_tpot.__version__
"""


def _interpreter(version: str) -> str:
    """A CPython ``version`` interpreter: this one, ``pythonX.Y`` on PATH, or a pyenv install
    (pyenv's shims answer only for the versions it has selected)."""
    if sys.version_info[:2] == tuple(map(int, version.split("."))):
        return sys.executable
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    pytest.skip(f"no working python{version} (PATH, pyenv)")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # installs the dependencies from the index
@pytest.mark.parametrize("python_version", _classified_pythons())
def test_the_wheel_installs_into_a_fresh_venv_and_trains_there(dist, tmp_path, python_version):
    python = _interpreter(python_version)
    venv_dir = _fresh_venv(python, tmp_path / "venv")
    env = _clean_env(venv_dir)
    work = tmp_path / "work"  # no source tree here or above
    work.mkdir()
    bin_dir = venv_dir / "bin"
    _run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(dist["wheel"])], work, env
    )

    version = _run([str(bin_dir / "automl-tpot"), "--version"], work, env).stdout
    assert version == f"automl-tpot {VERSION}\n"
    where = _run([str(bin_dir / "python"), "-c", "import automl_tpot; print(automl_tpot.__file__)"],
                 work, env).stdout  # fmt: skip
    assert Path(where.strip()).is_relative_to(venv_dir), where
    assert (Path(where.strip()).parent / "py.typed").is_file()

    demo = [str(bin_dir / "automl-tpot"), "train", "--demo", "--time-left", "30",
            "--population-size", "4", "--generations", "2", "--n-jobs", "1", "--cv", "3",
            "--random-state", "0", "--out", "runs", "--run-id", "demo", "--quiet"]  # fmt: skip
    _run(demo, work, env)
    manifest = _check_stored_run(work / "runs" / "demo", VERSION)
    assert manifest["status"] == "complete"

    job = _run([str(bin_dir / "python"), "-c", JOB_SCRIPT], work, env)
    record = json.loads(job.stdout.strip().splitlines()[-1])
    assert record["status"] == "complete" and record["task"] == "regression"
    _check_stored_run(work / "jobs" / "job-1", VERSION)

    # a type checker reading the installed wheel takes its annotations (py.typed)
    if importlib.util.find_spec("mypy") is not None:
        (work / "typed.py").write_text(TYPED_SCRIPT)
        checked = subprocess.run(
            [sys.executable, "-m", "mypy", "--python-executable", str(bin_dir / "python"),
             "--python-version", python_version, "--no-incremental", "typed.py"],
            cwd=work, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert "py.typed" not in checked.stdout, checked.stdout
        errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
        assert len(errors) == 1 and "typed.py:7:" in errors[0], checked.stdout
        assert 'incompatible types in assignment (expression has type "str"' in errors[0].lower()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_lock_installs_with_hashes_required_then_the_wheel_without_resolving(dist, tmp_path):
    python = _interpreter("3.11")
    venv_dir = _fresh_venv(python, tmp_path / "venv")
    env = _clean_env(venv_dir)
    work = tmp_path / "work"
    work.mkdir()
    pip = [str(venv_dir / "bin" / "python"), "-m", "pip"]
    _run([*pip, "install", "--quiet", "--require-hashes", "-r", str(LOCK)], work, env)
    _run([*pip, "install", "--quiet", "--no-deps", str(dist["wheel"])], work, env)
    _run([*pip, "check"], work, env)  # the lock holds every dependency the wheel declares
    assert _run([str(venv_dir / "bin" / "automl-tpot"), "--version"], work, env).stdout == (
        f"automl-tpot {VERSION}\n"
    )
    imports = "import automl_tpot, s3fs, prometheus_client, bokeh, distributed; print('ok')"
    assert _run([str(venv_dir / "bin" / "python"), "-c", imports], work, env).stdout == "ok\n"
    frozen = _run([*pip, "freeze", "--all", "--exclude", "automl-tpot"], work, env).stdout
    installed = {
        canonicalize_name(line.split("==")[0]): line.split("==")[1]
        for line in frozen.splitlines()
        if "==" in line and not line.startswith("pip==")
    }
    pins = {name: version for name, (version, _) in _lock_pins().items()}
    assert installed == pins, "the venv holds exactly the lock's pins"
