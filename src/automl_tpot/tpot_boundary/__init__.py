"""The TPOT boundary: the only code that touches TPOT beyond its documented public API."""
