"""Helpers for testing holoflow applications: source and sink operators."""

from holoflow.testing._operators import Recorder, Source

__all__ = ["Recorder", "Source"]
