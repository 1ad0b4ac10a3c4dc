"""The one parser of environment-variable values: booleans and numbers as the deployment
writes them (``TPOT__ENSEMBLE=off``, ``ENABLE_AUTOML_FALLBACK=1``)."""

from __future__ import annotations

from ..errors import ConfigError

__all__ = ["FALSE_WORDS", "TRUE_WORDS", "parse_bool", "parse_number"]

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def parse_bool(raw: str, field: str, *, variable: str, empty: bool | None = None) -> bool:
    """``raw`` as a boolean (1/0, true/false, yes/no, on/off, any case).

    ``empty`` is the answer for a blank value; ``None`` makes a blank value an error.

    Raises:
        ConfigError: naming ``field`` and the environment ``variable``.
    """
    value = str(raw).strip().lower()
    if not value and empty is not None:
        return empty
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    allowed = "one of 1/0, true/false, yes/no, on/off"
    raise ConfigError(field, raw, allowed, source=variable)


def parse_number(raw: str, field: str, *, variable: str, integer: bool) -> int | float:
    """``raw`` as an ``int`` (``integer``) or a ``float``.

    Raises:
        ConfigError: naming ``field`` and the environment ``variable``.
    """
    text = str(raw).strip()
    try:
        return int(text) if integer else float(text)
    except ValueError:
        allowed = "an integer" if integer else "a number of seconds"
        raise ConfigError(field, raw, allowed, source=variable) from None
