"""The in-process app of the REST tests, for the pages' tests."""

from tests.rest.conftest import api, settings

__all__ = ["api", "settings"]
