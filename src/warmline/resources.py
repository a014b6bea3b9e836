"""Where the shipped resources live (skills, policy, demo catalog, schema, styles).

In a wheel they are packaged under ``warmline/resources``; in a source checkout they
sit at the repository's top-level ``resources/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def resources_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "resources"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "resources"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("warmline resources not found (broken install?)")


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
