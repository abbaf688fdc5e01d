"""A machine whose EGL library cannot be loaded (a GPU machine without libglvnd, say): the OpenGL
renderer reports it as a ResourceError, every time, and Holoviz's ``auto`` falls back to software."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("OpenGL")

# Run in a fresh process whose dynamic loader refuses the EGL and OpenGL libraries, as one
# without them does (PyOpenGL then fails with an AttributeError of its own).
_WITHOUT_EGL = textwrap.dedent(
    """
    import ctypes
    _load = ctypes.CDLL.__init__
    def _refuse(self, name, *args, **kwargs):
        if name and any(lib in str(name) for lib in ("EGL", "OpenGL", "libGL")):
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")
        _load(self, name, *args, **kwargs)
    ctypes.CDLL.__init__ = _refuse
    """
)


def run_without_egl(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EGL + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_missing_egl_library_is_a_resource_error_each_time():
    out = run_without_egl(
        """
        from holoflow.errors import ResourceError
        from holoflow.viz import GLRenderer, opengl_available
        print(opengl_available())
        for _ in range(2):
            try:
                GLRenderer(4, 4)
            except ResourceError as exc:
                print(exc)
        """
    )
    first, *errors = out.strip().splitlines()
    assert first == "False"
    assert len(errors) == 2 and errors[0] == errors[1]
    assert "could not load the egl and OpenGL libraries" in errors[0] and "libglvnd" in errors[0]


def test_holoviz_auto_falls_back_to_software_without_egl():
    out = run_without_egl(
        """
        import numpy as np
        from holoflow.operators import HolovizOp
        from holoflow.testing import Recorder, Source
        from holoflow.core import Application

        class App(Application):
            def compose(self):
                frame = np.full((8, 8, 3), 200, np.uint8)
                viz = HolovizOp(self, name="viz", headless=True, enable_render_buffer_output=True,
                                width=8, height=8, tensors=[{"name": "", "type": "color"}])
                self.add_flow(Source(self, [{"": frame}], name="src"), viz, {("out", "receivers")})
                self.add_flow(viz, rx := Recorder(self, name="rx"), {("render_buffer_output", "in")})
                self.rx = rx

        app = App()
        app.run()
        (pixels,) = (np.asarray(t) for t in app.rx.received[0].values())
        print(pixels.shape, pixels[0, 0].tolist())
        """
    )
    assert out.strip().splitlines()[-1] == "(8, 8, 4) [200, 200, 200, 255]"
