"""Holoscan's application command line: the options every ``Application`` understands.

:func:`parse_cli` reads ``--driver``, ``--worker``, ``--address``, ``--worker-address``,
``--fragments``, ``--config``, ``--version`` and ``-h``/``--help`` the way Holoscan's parser does
(``src/core/cli_parser.cpp``) and leaves every other argument, in order, for the program:

* the flags take no value, or ``=true``/``=false`` (also ``1``/``0``, ``on``/``off``,
  ``yes``/``no``); given twice they stay on;
* the other options take one value, as ``--opt VALUE`` or ``--opt=VALUE``; ``--address``,
  ``--worker-address`` and ``--config`` may be given once, ``--fragments`` any number of
  times, each value split at commas (empty names dropped);
* ``--`` ends the options: it and everything after it stay in the rest;
* the first item of the command line (the program) is dropped, as in Holoscan.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from holoflow.core._cli_options import CLIOptions
from holoflow.errors import ConfigError

__all__ = ["parse_cli", "usage"]

_FLAGS = {"--driver": "run_driver", "--worker": "run_worker"}
_SINGLE = {"--address": "driver_address", "--worker-address": "worker_address", "--config": "config_path"}
_LIST = "--fragments"
_HELP = ("-h", "--help")
_VERSION = "--version"
_TRUE = {"true", "1", "on", "yes", "y", "t"}
_FALSE = {"false", "0", "off", "no", "n", "f"}

_USAGE = """\
Usage: {name} [OPTIONS]

Options:
  -h,--help               Print this help message and exit
  --version               Show the version of the application.
  --driver                Run the App Driver on the current machine. Can be used together with
                          '--worker' to run both on the same machine.
  --worker                Run the App Worker.
  --address TEXT          Address ('[<IP or hostname>][:<port>]') of the App Driver (default
                          port 57777; HOLOFLOW_APP_DRIVER_PORT or HOLOSCAN_APP_DRIVER_PORT
                          changes it).
  --worker-address TEXT   Address ('[<IP or hostname>][:<port>]') of the App Worker.
  --fragments TEXT ...    Comma-separated names of the fragments this worker runs; 'all' runs
                          every fragment.
  --config TEXT           Path to the configuration file (overrides the one given to config()).
"""


def usage(program: str) -> str:
    """The help text ``-h`` prints, for the program called ``program``."""
    return _USAGE.format(name=program or "application")


def parse_cli(
    argv: Sequence[str], *, version: str = "0.0.0", out: TextIO | None = None
) -> tuple[CLIOptions, list[str]]:
    """Split ``argv`` (program first) into the application's options and the rest.

    Returns
    -------
    (CLIOptions, list of str)
        The options, and the arguments they leave (``[""]`` when none are left, as Holoscan).

    Raises
    ------
    holoflow.errors.ConfigError
        If an option misses its value, a single-value option is repeated, or a flag gets a
        value that is not a boolean (naming the option; Holoscan logs these and does not run).
    SystemExit
        With code 0 after printing the help (``-h``, ``--help``) or ``version`` (``--version``).
    """
    items = [str(item) for item in argv]
    stream = out if out is not None else sys.stdout
    flags = {"run_driver": False, "run_worker": False}
    single: dict[str, str] = {}
    targets: list[str] = []
    rest: list[str] = []
    index = 1
    while index < len(items):
        item = items[index]
        index += 1
        if item == "--":
            rest.extend(items[index - 1 :])
            break
        name, has_value, inline = item.partition("=")
        if item in _HELP:
            stream.write(usage(_program_name(items)))
            raise SystemExit(0)
        if item == _VERSION:
            stream.write(f"{version}\n")
            raise SystemExit(0)
        if name in _FLAGS:
            flags[_FLAGS[name]] = _flag_value(name, inline) if has_value else True
        elif name in _SINGLE or name == _LIST:
            if has_value:
                value = inline
            elif index < len(items) and not _looks_like_option(items[index]):
                value = items[index]
                index += 1
            else:
                raise ConfigError(f"{name}: 1 required TEXT missing")
            if name == _LIST:
                targets.extend(part for part in value.split(",") if part)
            elif name in single:
                raise ConfigError(f"{name}: At Most 1 required but received 2")
            else:
                single[name] = value
        else:
            rest.append(item)
    options = CLIOptions(
        run_driver=flags["run_driver"],
        run_worker=flags["run_worker"],
        driver_address=single.get("--address", ""),
        worker_address=single.get("--worker-address", ""),
        worker_targets=targets,
        config_path=single.get("--config", ""),
    )
    return options, rest or [""]


def _flag_value(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"Could not convert: {name} = {value}")


def _looks_like_option(item: str) -> bool:
    """Whether ``item`` is one of the application's options (so not a value for another)."""
    name = item.partition("=")[0]
    return (
        name in _FLAGS
        or name in _SINGLE
        or name == _LIST
        or item in _HELP
        or item == _VERSION
        or item == "--"
    )


def _program_name(items: list[str]) -> str:
    """The program's file name: the script for ``python script.py``, else the first item."""
    name = items[1] if len(items) > 1 and ".py" in items[1] else (items[0] if items else "")
    return name.replace("\\", "/").rsplit("/", 1)[-1]
