"""HolovizOp in a real window on an Xvfb display: a screenshot shows the frame."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from holoflow.viz import opengl_available

pytestmark = pytest.mark.skipif(
    shutil.which("Xvfb") is None or importlib.util.find_spec("glfw") is None or not opengl_available(),
    reason="needs Xvfb, glfw and OpenGL through EGL (.ci/run installs xvfb and Mesa's EGL packages)",
)

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from PIL import ImageGrab
    from holoflow.core import Application, Operator
    from holoflow.operators import HolovizOp
    from holoflow.testing import Source

    class Screenshot(Operator):
        def setup(self, spec):
            spec.input("in")
        def start(self):
            self.frames = 0
        def compute(self, op_input, op_output, context):
            op_input.receive("in")
            self.frames += 1
            if self.frames == 3:  # the window has been presented twice by now
                ImageGrab.grab(xdisplay=sys.argv[2]).save(sys.argv[1])

    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32, 0] = 255  # left half red
    image[:, 32:, 2] = 255  # right half blue
    app = Application([])
    viz = HolovizOp(app, name="holoviz", width=64, height=48, window_title="holoflow test",
                    enable_render_buffer_output=True, tensors=[{"name": "", "type": "color"}])
    app.add_flow(Source(app, [{"": image}] * 4, name="src"), viz, {("out", "receivers")})
    app.add_flow(viz, Screenshot(app, name="shot"), {("render_buffer_output", "in")})
    app.run()
    print("done")
    """
)


@pytest.fixture
def display():
    """A fresh Xvfb server; its display name."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "320x240x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as stream:
        number = stream.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_window_shows_the_frame(display, tmp_path):
    shot = tmp_path / "screen.png"
    env = dict(os.environ, DISPLAY=display)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(shot), display], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(shot) as image:
        screen = np.asarray(image.convert("RGB")).astype(int)
    red = (screen[..., 0] > 200) & (screen[..., 1] < 50) & (screen[..., 2] < 50)
    blue = (screen[..., 2] > 200) & (screen[..., 0] < 50) & (screen[..., 1] < 50)
    assert red.sum() == 32 * 48 and blue.sum() == 32 * 48  # the whole frame, nothing else
    red_columns, blue_columns = np.nonzero(red.any(axis=0))[0], np.nonzero(blue.any(axis=0))[0]
    assert red_columns.max() + 1 == blue_columns.min()  # side by side, red on the left
