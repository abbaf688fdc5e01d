"""A machine whose EGL library cannot be loaded (a GPU machine without libglvnd, say): the OpenGL
renderer reports it as a ResourceError, every time, and Holoviz's ``auto`` falls back to software."""

from __future__ import annotations

import pytest

from .._isolation import run_without_libraries

pytest.importorskip("OpenGL")


def run_without_egl(code: str) -> str:
    """Run ``code`` where the EGL and OpenGL libraries cannot be loaded (PyOpenGL then fails
    with an AttributeError of its own); returns its standard output."""
    done = run_without_libraries(("EGL", "OpenGL", "libGL"), code)
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
