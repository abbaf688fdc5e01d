"""``open_renderer``: the renderer chosen by mode, its fallback, its errors, and the example using it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from holoflow.errors import ConfigError, ResourceError
from holoflow.tensor import cuda_available
from holoflow.viz import Camera, InputSpec, Renderer, composite, open_renderer, opengl_available

from .._isolation import run_without

W, H = 40, 30
LUT = [[0.0, 0.0, 1.0, 0.2], [0.0, 1.0, 0.0, 0.8]]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "holoviz_renderer.py"


def layers() -> list[tuple[InputSpec, np.ndarray]]:
    rng = np.random.default_rng(4)
    labels = np.zeros((10, 12), np.uint8)
    labels[2:8, 3:9] = 1
    return [
        (InputSpec("", "color"), rng.integers(0, 256, (H, W, 3), dtype=np.uint8)),
        (InputSpec("mask", "color_lut", opacity=0.6), labels),
        (InputSpec("tri", "triangles_3d", color=(1.0, 0.0, 0.0, 1.0)), rng.uniform(-0.4, 0.4, (3, 3))),
    ]


@pytest.fixture(params=["software", "opengl"])
def mode(request) -> str:
    if request.param == "opengl" and not opengl_available():
        pytest.skip("no headless OpenGL here (PyOpenGL with EGL and a driver such as Mesa)")
    return request.param


def test_each_mode_draws_the_compositors_frame(mode):
    camera = Camera(eye=(0.4, 0.2, 1.1))
    expected = composite(layers(), W, H, LUT, camera)
    with open_renderer(mode, W, H) as renderer:
        assert isinstance(renderer, Renderer) and renderer.kind == mode
        assert (renderer.width, renderer.height) == (W, H)
        renderer.draw(layers(), LUT, camera)
        first = renderer.read()
        renderer.present()  # offscreen: nothing to show, and nothing to close
        assert not renderer.should_close()
        renderer.draw([], None)
        second = renderer.read()
    assert first.shape == (H, W, 4) and first.dtype == np.uint8
    assert np.abs(first.astype(int) - expected).max() <= (0 if mode == "software" else 2)
    assert (second == [0, 0, 0, 255]).all()  # an empty draw is opaque black
    assert not (first == [0, 0, 0, 255]).all()  # and did not overwrite the frame read before


def test_auto_uses_opengl_when_it_can():
    expected = "opengl" if opengl_available() else "software"
    with open_renderer("auto", W, H) as renderer:
        assert renderer.kind == expected


def test_closing_twice_is_harmless(mode):
    renderer = open_renderer(mode, W, H)
    renderer.close()
    renderer.close()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("vulkan", W, H), {}, "renderer must be 'auto', 'opengl' or 'software', got 'vulkan'"),
        (("software", 0, H), {}, "width and height must be positive, got 0x30"),
        (("software", W, H), {"window": "viz"}, "a window needs OpenGL"),
    ],
)
def test_bad_requests_raise_config_errors_naming_the_owner(args, kwargs, message):
    with pytest.raises(ConfigError, match=rf"^operator 'viz': {re.escape(message)}"):
        open_renderer(*args, label="operator 'viz'", **kwargs)


def test_a_window_without_a_display_raises_a_resource_error(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ResourceError, match="^operator 'viz': .*(no display|glfw|PyOpenGL)"):
        open_renderer("auto", W, H, window="viz", label="operator 'viz'")


def test_read_cuda_without_cuda_says_what_is_missing(mode):
    if cuda_available():
        pytest.skip("a CUDA device is present (tests/gpu covers read_cuda)")
    with open_renderer(mode, W, H) as renderer, pytest.raises((ImportError, ResourceError)) as raised:
        renderer.read_cuda()
    assert re.search("needs CuPy|needs a CUDA device", str(raised.value))


def test_without_pyopengl_auto_falls_back_and_opengl_raises():
    """In a child where PyOpenGL cannot be imported: "auto" warns and draws in software,
    "opengl" raises ResourceError saying what is missing."""
    script = """
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        import numpy as np
        from holoflow.errors import ResourceError
        from holoflow.viz import InputSpec, open_renderer
        renderer = open_renderer("auto", 8, 4, label="child")
        renderer.draw([(InputSpec("", "color"), np.full((4, 8, 3), 9, np.uint8))])
        print(renderer.kind, int(renderer.read()[0, 0, 0]))
        try:
            open_renderer("opengl", 8, 4, label="child")
        except ResourceError as exc:
            print("raised:", exc)
        """
    out = run_without(["OpenGL"], script)
    assert out.returncode == 0, out.stderr
    kind, raised = out.stdout.splitlines()
    assert kind == "software 9"
    assert raised.startswith("raised: child: ") and "PyOpenGL" in raised
    assert out.stderr.count("child: rendering in software") == 1


def test_the_example_draws_and_saves_frames(tmp_path):
    png = tmp_path / "frame.png"
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(png)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    counts = [re.fullmatch(r"frame (\d): 640x360 RGBA, (\d+) red box pixels", line) for line in lines[:3]]
    assert all(counts), lines
    assert all(int(m[2]) > 1000 for m in counts)  # two box outlines, two pixels wide
    summary = r"drawn by (opengl|software); organ centre RGBA \[(\d+), (\d+), (\d+), 255\]"
    match = re.fullmatch(summary, lines[3])
    assert match, lines
    r, g, b = (int(v) for v in match.groups()[1:])
    assert g > r and g > b  # the organ's green LUT entry over the grey ramp
    assert lines[4] == f"saved {png}"
    from PIL import Image

    with Image.open(png) as image:
        assert image.size == (640, 360) and image.mode == "RGBA"
