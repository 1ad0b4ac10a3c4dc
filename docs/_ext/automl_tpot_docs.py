"""Sphinx extension: the parts of the automl-tpot docs that are generated from the code.

At ``builder-inited`` it writes Markdown fragments into ``docs/_generated/`` (ignored by git,
excluded as documents, pulled into pages with MyST's ``{include}``):

- ``configuration.md``: a table of every :class:`~automl_tpot.TrainerConfig` field with its
  type, default, environment variable, payload key, CLI option and description, read from the
  attrs fields, ``ENV_VARIABLES``, the class docstring and :func:`automl_tpot.cli.build_parser`;
- ``cli.md``: the ``--help`` text of ``automl-tpot`` and of every subcommand, from the parser;
- ``examples/<script>.md``: the standard output of each ``examples/*.py`` script, run during the
  build, and the figures it wrote. ``AUTOML_TPOT_DOCS_EXECUTE=0`` skips the runs for a fast
  build (the fragments then say the examples were not executed).

At ``env-check-consistency`` it warns (an error under ``-W``) about every name in
``automl_tpot.__all__`` that the API reference does not document, or that has no docstring.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

GENERATED = "_generated"
#: examples/<name>.py scripts the docs run, in the order the examples page shows them.
EXAMPLES = (
    "train_dataframe",
    "custom_search_space",
    "host_storage_metrics",
    "pareto_front",
    "distributed_training",
)
EXAMPLE_TIMEOUT_S = 600


def _execute_examples() -> bool:
    return os.environ.get("AUTOML_TPOT_DOCS_EXECUTE", "1").strip().lower() not in {
        "0", "false", "no", "off",
    }


def _write(path: Path, text: str) -> None:
    """Write only when the text changed, so Sphinx does not re-read unchanged pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


# --- the configuration table -------------------------------------------------------------------


def _attribute_descriptions(cls: type) -> dict[str, str]:
    """``name: text`` entries of the ``Attributes:`` section of a Google-style docstring."""
    doc = inspect.getdoc(cls) or ""
    section = doc.split("Attributes:", 1)[1] if "Attributes:" in doc else ""
    out: dict[str, str] = {}
    current = None
    for line in section.splitlines():
        match = re.match(r"^    (\w+): (.*)$", line)
        if match:
            current = match.group(1)
            out[current] = match.group(2).strip()
        elif current and line.startswith("        "):
            out[current] += " " + line.strip()
        elif line.strip() and not line.startswith(" "):
            break
    return out


def _cli_options(parser: argparse.ArgumentParser) -> dict[str, str]:
    """TrainerConfig field -> the ``automl-tpot train`` option that sets it."""
    train = _subcommands(parser)["train"]
    options: dict[str, str] = {}
    for action in train._actions:
        if action.option_strings:
            options[action.dest] = " / ".join(action.option_strings)
    return options


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rst_roles_to_md(text: str) -> str:
    """Docstring roles in a Markdown table: ``:class:`~a.B``` becomes ``B`` as code."""
    text = re.sub(r":\w+:`~?([\w.]+)`", lambda m: "`" + m.group(1).rsplit(".", 1)[-1] + "`", text)
    return text.replace("``", "`")


def configuration_table() -> str:
    import attrs

    from automl_tpot import TrainerConfig
    from automl_tpot.cli import build_parser
    from automl_tpot.config import ENV_VARIABLES, PAYLOAD_JOB_KEYS

    env_for = {name: variable for variable, name in ENV_VARIABLES.items()}
    descriptions = _attribute_descriptions(TrainerConfig)
    cli = _cli_options(build_parser())
    lines = [
        "| field | type | default | environment variable | payload key | `automl-tpot train` "
        "option | meaning |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for attribute in attrs.fields(TrainerConfig):
        default = attribute.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            factory = default.factory
            summary = (inspect.getdoc(factory) or factory.__name__).splitlines()[0]
            default_text = f"`{factory.__name__}()`: {summary}"
        else:
            default_text = f"`{default!r}`"
        env = env_for.get(attribute.name)
        option = cli.get(attribute.name)
        cells = [
            f"`{attribute.name}`",
            f"`{attribute.type}`",
            default_text,
            f"`{env}`" if env else "",
            f"`{attribute.name}`",
            f"`{option}`" if option else "",
            _rst_roles_to_md(descriptions.get(attribute.name, "")),
        ]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    job_keys = ", ".join(f"`{k}`" for k in sorted(PAYLOAD_JOB_KEYS))
    lines += [
        "",
        f"Payload keys that belong to the job, not the configuration, are accepted and ignored "
        f"by `TrainerConfig.from_payload`: {job_keys}. Any other unknown key is a `ConfigError`.",
        "",
    ]
    return "\n".join(lines)


# --- the CLI reference -------------------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(parser: argparse.ArgumentParser):
    yield parser
    for child in _subcommands(parser).values():
        yield from _walk(child)


def cli_reference() -> str:
    from automl_tpot.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps help text to the terminal width
    try:
        parts = []
        for parser in _walk(build_parser()):
            level = "#" * (2 + parser.prog.count(" "))
            parts += [f"{level} `{parser.prog}`", "", "```text", parser.format_help().rstrip(),
                      "```", ""]
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(parts)


# --- executed examples ------------------------------------------------------------------------


def run_example(script: Path, figures: Path) -> tuple[str, float]:
    """Run one example script in a scratch folder; return its standard output and seconds."""
    env = dict(os.environ)
    env["AUTOML_TPOT_EXAMPLE_OUT"] = str(figures)
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONUNBUFFERED"] = "1"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="automl-tpot-example-") as scratch:
        completed = subprocess.run(
            [sys.executable, str(script)], cwd=scratch, env=env, capture_output=True,
            text=True, timeout=EXAMPLE_TIMEOUT_S,
        )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise ExtensionError(
            f"example {script.name} exited with status {completed.returncode}:\n"
            f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    return completed.stdout, seconds


def example_fragment(name: str, examples: Path, generated: Path, execute: bool) -> str:
    script = examples / f"{name}.py"
    if not script.exists():
        raise ExtensionError(f"the docs show examples/{name}.py, which does not exist")
    if not execute:
        return (
            "```{note}\nThis build ran with `AUTOML_TPOT_DOCS_EXECUTE=0`, so the example was not "
            "executed and its output is not shown. `nox -s docs` runs it.\n```\n"
        )
    figures = generated / "examples" / name
    shutil.rmtree(figures, ignore_errors=True)
    figures.mkdir(parents=True)
    logger.info(f"running examples/{name}.py ...")
    stdout, seconds = run_example(script, figures)
    parts = [
        f"Output of `python examples/{name}.py`, run by this docs build "
        f"(automl-tpot {_version()}, {seconds:.0f} s on the build machine):",
        "",
        "```text",
        stdout.rstrip() or "(no output)",
        "```",
        "",
    ]
    for figure in sorted(figures.glob("*.png")):
        parts += [
            f"```{{figure}} /{GENERATED}/examples/{name}/{figure.name}",
            f":alt: {figure.stem.replace('_', ' ')} written by examples/{name}.py",
            "",
            f"`{figure.name}`, drawn by `examples/{name}.py` during this build.",
            "```",
            "",
        ]
    return "\n".join(parts)


def _version() -> str:
    import automl_tpot

    return automl_tpot.__version__


# --- Sphinx hooks ------------------------------------------------------------------------------


def generate(app: Sphinx) -> None:
    srcdir = Path(app.srcdir)
    generated = srcdir / GENERATED
    examples = srcdir.parent / "examples"
    _write(generated / "configuration.md", configuration_table())
    _write(generated / "cli.md", cli_reference())
    execute = _execute_examples()
    for name in EXAMPLES:
        fragment = example_fragment(name, examples, generated, execute)
        _write(generated / "examples" / f"{name}.md", fragment)


def check_public_api(app: Sphinx, env: Any) -> None:
    """Every name in ``automl_tpot.__all__`` is documented on a page, with a docstring."""
    import automl_tpot

    documented = set(env.get_domain("py").objects)
    for name in automl_tpot.__all__:
        if f"automl_tpot.{name}" not in documented:
            logger.warning(
                f"automl_tpot.{name} is in automl_tpot.__all__ but not documented in the API "
                "reference (docs/api.md)",
                type="automl_tpot", subtype="undocumented",
            )
        elif not inspect.getdoc(getattr(automl_tpot, name)):
            logger.warning(
                f"automl_tpot.{name} has no docstring", type="automl_tpot", subtype="undocumented"
            )


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    app.connect("env-check-consistency", check_public_api)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
