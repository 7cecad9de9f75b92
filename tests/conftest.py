"""Shared fixtures: where the third-party data lives, and small builders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
NMEA_DIR = SHARED / "data" / "nmea"
ZONES_DIR = SHARED / "data" / "zones"
CONTRACTS = SHARED / "contracts"
#: Screenshots the browser tests save, to be looked at (not in git).
ARTIFACTS = ROOT / "test-artifacts"


def shared_file(path: Path) -> Path:
    """A file from ../shared, or skip the test with the reason."""
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/data is provided beside the checkout)")
    return path


def contract(name: str) -> dict:
    """A JSON Schema from ../shared/contracts, or the project's copy in docs/contracts."""
    for base in (CONTRACTS, ROOT / "docs" / "contracts"):
        p = base / name
        if p.exists():
            return json.loads(p.read_text())
    pytest.skip(f"contract {name} not found")
    raise AssertionError  # unreachable


def recordings() -> list[Path]:
    """The real NMEA recordings in ../shared/data/nmea (empty when absent)."""
    return sorted(NMEA_DIR.glob("*")) if NMEA_DIR.exists() else []
