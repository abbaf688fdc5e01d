"""``resolve_app``: sample apps by name, scripts, ``module:Class``, and clear errors."""

from __future__ import annotations

import sys
import textwrap

import pytest

from holoflow.apps.ultrasound_segmentation import UltrasoundSegmentationApp
from holoflow.core import Application
from holoflow.errors import ConfigError
from holoflow.latency import resolve_app

from .conftest import CHAIN_APP

TWO_APPS = """
    from holoflow.core import Application

    class First(Application):
        def compose(self):
            pass

    class Second(Application):
        def compose(self):
            pass
"""


def _script(tmp_path, text, name="app.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_sample_app_by_name():
    target = resolve_app("ultrasound_segmentation")
    assert target.app_class is UltrasoundSegmentationApp and target.is_sample
    assert target.name == "ultrasound_segmentation"


def test_a_script_with_one_application():
    target = resolve_app(str(CHAIN_APP))
    assert target.app_class.__name__ == "ChainApp" and not target.is_sample
    assert issubclass(target.app_class, Application)


def test_a_script_with_several_needs_a_class_name(tmp_path):
    path = _script(tmp_path, TWO_APPS)
    with pytest.raises(
        ConfigError, match=r"defines several Application subclasses \(First, Second\); name one"
    ):
        resolve_app(str(path))
    assert resolve_app(f"{path}:Second").app_class.__name__ == "Second"
    with pytest.raises(ConfigError, match="has no 'Third'"):
        resolve_app(f"{path}:Third")


def test_module_and_class():
    target = resolve_app("holoflow.apps.ultrasound_segmentation:UltrasoundSegmentationApp")
    assert target.app_class is UltrasoundSegmentationApp
    with pytest.raises(ConfigError, match="is not a holoflow Application subclass"):
        resolve_app("holoflow.apps.ultrasound_segmentation:main")
    with pytest.raises(ConfigError, match="cannot import module 'no_such_module_here': ModuleNotFoundError"):
        resolve_app("no_such_module_here:App")


def test_a_class_itself():
    assert resolve_app(UltrasoundSegmentationApp).app_class is UltrasoundSegmentationApp
    with pytest.raises(ConfigError, match="is not a holoflow Application subclass"):
        resolve_app(int)


def test_bad_names_and_scripts(tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown app 'mri': give a sample app \(endoscopy_tool_tracking, "
    ):
        resolve_app("mri")
    with pytest.raises(ConfigError, match="no such script: .*missing.py"):
        resolve_app(str(tmp_path / "missing.py"))
    broken = _script(tmp_path, "def oops(:\n", "broken.py")
    with pytest.raises(ConfigError, match=r"cannot load .*broken.py: SyntaxError"):
        resolve_app(str(broken))
    raising = _script(tmp_path, "raise RuntimeError('no camera')\n", "raising.py")
    with pytest.raises(ConfigError, match=r"cannot load .*raising.py: RuntimeError: no camera"):
        resolve_app(str(raising))
    exiting = _script(tmp_path, "import sys\nsys.exit(3)\n", "exiting.py")
    with pytest.raises(ConfigError, match=r"exiting.py: SystemExit: 3"):
        resolve_app(str(exiting))
    empty = _script(tmp_path, "from holoflow.core import Application\n", "empty.py")
    with pytest.raises(ConfigError, match="empty.py defines no holoflow Application subclass"):
        resolve_app(str(empty))
    assert str(tmp_path) not in sys.path  # the script's folder was only on the path while loading
