"""Developer sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s docs``, ``nox -s bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (what CI runs)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-q", *(session.posargs or ["--cov"]))


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def types(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".", "mypy", "types-PyYAML")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into ``site/`` with ``--strict``: a broken link, a missing
    reference or a public name without a docstring fails it (``nox -s docs -- serve`` serves it)."""
    session.install("-e", ".[docs]")
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:])
        return
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks; set HOLOSCAN_PYTHON to compare against the Holoscan SDK."""
    session.install("-e", ".")
    scripts = ("ping_chain.py", "flow_control.py", "parallel_branches.py", "scheduler_latency.py", "apps.py")
    for script in scripts:
        session.run("python", f"benchmarks/{script}", *session.posargs)
