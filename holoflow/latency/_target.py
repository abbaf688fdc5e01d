"""Which application to measure: a sample app by name, a script's class, or ``module:Class``."""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from holoflow.apps import APPS, RunOptions, SampleApp, app_class
from holoflow.core import Application
from holoflow.errors import ConfigError

__all__ = ["AppTarget", "resolve_app"]

_scripts = itertools.count(1)


@dataclass(frozen=True)
class AppTarget:
    """An application class to run, and the name the report gives it."""

    name: str
    """As the user named it (``ultrasound_segmentation``, ``demo.py:MyApp``...)."""
    app_class: type[Application]
    """The class; a :class:`~holoflow.apps.SampleApp` subclass is built with run options."""

    @property
    def is_sample(self) -> bool:
        """Whether the class takes :class:`~holoflow.apps.RunOptions` (a sample app)."""
        return issubclass(self.app_class, SampleApp)

    def build(self, options: RunOptions | None = None) -> Application:
        """The application, constructed but not composed: a sample app with ``options``
        (default: headless), any other class with no arguments (its default command line).

        Raises
        ------
        holoflow.errors.ConfigError
            If the constructor raises (its error is quoted); a sample app's own
            ``HoloflowError`` (a missing config file) propagates as it is.
        """
        if self.is_sample:
            sample: type[Any] = self.app_class
            built: Application = sample(options if options is not None else RunOptions(headless=True))
            return built
        try:
            return self.app_class()
        except Exception as exc:
            raise ConfigError(
                f"{self.name}: cannot build the application: {type(exc).__name__}: {exc}"
            ) from exc


def resolve_app(spec: str | type[Application]) -> AppTarget:
    """The application ``spec`` names.

    ``spec`` is a sample app's name (:data:`holoflow.apps.APPS`), ``path/to/script.py`` (its one
    ``Application`` subclass), ``path/to/script.py:ClassName``, ``package.module:ClassName``,
    or an ``Application`` subclass itself.

    Raises
    ------
    holoflow.errors.ConfigError
        If the name fits none of these, the script or module cannot be loaded (its error is
        quoted), the class is missing or not an ``Application``, or a script defines no
        ``Application`` subclass or several (then name one).
    """
    if isinstance(spec, type):
        if not issubclass(spec, Application):
            raise ConfigError(f"{spec.__qualname__} is not a holoflow Application subclass")
        return AppTarget(spec.__qualname__, spec)
    if spec in APPS:
        return AppTarget(spec, app_class(spec))
    where, _, class_name = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if where.endswith(".py"):
        module = _load_script(Path(where))
        return AppTarget(spec, _pick_class(module, where, class_name))
    if class_name and where:
        try:
            module = importlib.import_module(where)
        except Exception as exc:
            raise ConfigError(f"cannot import module {where!r}: {type(exc).__name__}: {exc}") from exc
        return AppTarget(spec, _pick_class(module, where, class_name))
    raise ConfigError(
        f"unknown app {spec!r}: give a sample app ({', '.join(APPS)}), a script (path/to/app.py"
        "[:ClassName]) or package.module:ClassName"
    )


def _load_script(path: Path) -> ModuleType:
    if not path.is_file():
        raise ConfigError(f"no such script: {path}")
    name = f"_holoflow_latency_script_{next(_scripts)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path} as a Python script")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # as `python script.py` would: its neighbours import
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        del sys.modules[name]
        raise ConfigError(f"cannot load {path}: {type(exc).__name__}: {exc}") from exc
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


def _pick_class(module: ModuleType, where: str, class_name: str) -> type[Application]:
    if class_name:
        found = getattr(module, class_name, None)
        if found is None:
            raise ConfigError(f"{where} has no {class_name!r}")
        if not (isinstance(found, type) and issubclass(found, Application)):
            raise ConfigError(f"{where}:{class_name} is not a holoflow Application subclass")
        return found
    defined = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Application) and value.__module__ == module.__name__
    ]
    if not defined:
        raise ConfigError(f"{where} defines no holoflow Application subclass")
    if len(defined) > 1:
        names = ", ".join(sorted(c.__name__ for c in defined))
        raise ConfigError(
            f"{where} defines several Application subclasses ({names}); name one: {where}:CLASS"
        )
    return defined[0]
