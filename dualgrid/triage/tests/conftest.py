from collections.abc import Iterator

import pytest

from dualgrid.triage import engine


@pytest.fixture(autouse=True)
def _fresh_triage_state() -> Iterator[None]:
    """Each test reads the rules and models of its own database, not a previous test's."""
    engine.invalidate()
    yield
    engine.invalidate()
