"""A conversation store as the Rasa server configures it, in a temporary SQLite file."""
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain

from bot.tracker_store import MaskingSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture
def tracker_store(domain, tmp_path):
    return MaskingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "conversations.db"))
