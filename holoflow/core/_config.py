"""YAML configuration files: ``Config`` and the lookups ``kwargs`` / ``from_config`` use."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from holoflow.core._arg import Arg, ArgList
from holoflow.errors import ConfigError

__all__ = ["Config"]


class Config:
    """A parsed YAML configuration file.

    Parameters
    ----------
    config_file : str or os.PathLike
        Path of the YAML file; its top level must be a mapping. ``""`` makes an empty
        configuration with no file, as in Holoscan.
    prefix : str
        Dotted key under which every lookup is made ("" for the top level).

    Raises
    ------
    ConfigError
        If the file cannot be read, is not valid YAML, or its top level is not a mapping.
    """

    def __init__(self, config_file: str | os.PathLike[str], prefix: str = "") -> None:
        self.config_file = os.fspath(config_file)
        self.prefix = prefix
        data: Any = None
        if self.config_file:
            try:
                with open(self.config_file, encoding="utf-8") as stream:
                    data = yaml.safe_load(stream)
            except OSError as exc:
                raise ConfigError(
                    f"config file '{self.config_file}': cannot be read ({exc.strerror})"
                ) from exc
            except yaml.YAMLError as exc:
                raise ConfigError(f"config file '{self.config_file}': invalid YAML: {exc}") from exc
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"config file '{self.config_file}': top level must be a mapping, found {type(data).__name__}"
            )
        self._data: Mapping[str, Any] = data
        if prefix:
            root = self.get(prefix)
            if not isinstance(root, Mapping):
                raise ConfigError(f"config file '{self.config_file}': key '{prefix}' is not a mapping")
            self._data = root
            self.prefix = ""
            self._prefix_shown = prefix
        else:
            self._prefix_shown = ""

    def get(self, key: str) -> Any:
        """The value at dotted ``key``.

        Raises
        ------
        ConfigError
            If no value exists at that key; the message names the file and the key.
        """
        node: Any = self._data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                shown = f"{self._prefix_shown}.{key}" if self._prefix_shown else key
                if not self.config_file:
                    raise ConfigError(
                        f"the configuration is empty (config('') loads no file); no key '{shown}'"
                    )
                raise ConfigError(
                    f"config file '{self.config_file}': no key '{shown}'; "
                    f"top-level keys: {sorted(map(str, self._data))}"
                )
            node = node[part]
        return node

    def keys(self) -> set[str]:
        """Every dotted key in the file (``{"mx", "mx.multiplier"}`` for ``mx: {multiplier: 3}``)."""
        return set(_dotted_keys(self._data, ""))

    def kwargs(self, key: str) -> dict[str, Any]:
        """The mapping at ``key`` as a plain dict of keyword arguments.

        Raises
        ------
        ConfigError
            If the key is missing or its value is not a mapping.
        """
        value = self.get(key)
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"config file '{self.config_file}': key '{key}' holds a {type(value).__name__}, "
                "not a mapping of parameters"
            )
        return dict(value)

    def args(self, key: str) -> ArgList | Arg:
        """``ArgList`` for a mapping key, a single ``Arg`` for a leaf key (``from_config``)."""
        value = self.get(key)
        if isinstance(value, Mapping):
            return ArgList((Arg(str(k), v) for k, v in value.items()), name=key)
        return Arg(key.rsplit(".", 1)[-1], value)

    def __repr__(self) -> str:
        return f"Config({self.config_file!r})"


def _dotted_keys(node: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        yield dotted
        if isinstance(value, Mapping):
            yield from _dotted_keys(value, dotted + ".")
