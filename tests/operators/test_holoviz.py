"""HolovizOp headless: what arrives on ``receivers`` is drawn and emitted on ``render_buffer_output``."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from holoflow.errors import ConfigError, ResourceError, TensorError
from holoflow.operators import HolovizOp
from holoflow.testing import Recorder, Source
from holoflow.viz import InputSpec, composite, opengl_available

from .._isolation import run_without

W, H = 32, 24
LUT = [[0.0, 0.0, 1.0, 0.1], [0.0, 1.0, 0.0, 0.7]]


@pytest.fixture(params=["software", "opengl"])
def renderer(request) -> str:
    if request.param == "opengl" and not opengl_available():
        pytest.skip("no headless OpenGL here (PyOpenGL with EGL and a driver such as Mesa)")
    return request.param


def assert_close(frame: np.ndarray, expected: np.ndarray, renderer: str) -> None:
    """Software frames equal the compositor; OpenGL ones differ by texture-filter rounding only."""
    difference = np.abs(frame.astype(int) - expected)
    assert difference.max() <= (0 if renderer == "software" else 2)


def frames(count: int = 2) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        labels = np.zeros((12, 16, 1), np.uint8)
        labels[3:9, 4:12] = 1
        out.append({"": rng.integers(0, 256, (H, W, 3), dtype=np.uint8), "mask": labels})
    return out


def run(app, items, specs=None, **kwargs):
    src = Source(app, items, name="src")
    kwargs = {"headless": True, "enable_render_buffer_output": True, "width": W, "height": H, **kwargs}
    viz = HolovizOp(app, name="holoviz", **kwargs)
    app.add_flow(src, viz, {("out", "receivers")})
    if specs is not None:
        app.add_flow(Source(app, specs, name="specs"), viz, {("out", "input_specs")})
    app.add_flow(viz, rx := Recorder(app, name="rx"), {("render_buffer_output", "in")})
    app.run()
    return [np.asarray(message[""]) for message in rx.received]


def test_specs_are_drawn_in_order_and_the_frame_is_emitted(app, renderer):
    items = frames()
    specs = [{"name": "", "type": "color"}, {"name": "mask", "type": "color_lut", "opacity": 0.5}]
    rendered = run(app, items, tensors=specs, color_lut=LUT, renderer=renderer)
    assert len(rendered) == 2
    for frame, item in zip(rendered, items, strict=True):
        assert frame.shape == (H, W, 4) and frame.dtype == np.uint8
        layers = [(InputSpec.from_dict(s), item[s["name"]]) for s in specs]
        assert_close(frame, composite(layers, W, H, LUT), renderer)
        assert not np.array_equal(frame[..., :3], item[""])  # the overlay changed the image


def test_tensors_without_specs_are_detected_like_holoviz(app, renderer):
    items = frames(1)
    items[0]["ignored"] = np.zeros((3, 3, 3), np.int64)
    rendered = run(app, items, color_lut=LUT, renderer=renderer)
    layers = [(InputSpec(""), items[0][""]), (InputSpec("mask"), items[0]["mask"])]
    assert_close(rendered[0], composite(layers, W, H, LUT), renderer)


def test_input_specs_port_adds_layers_for_the_frame(app, renderer):
    items = [{"": np.zeros((H, W, 3), np.uint8), "box": np.array([[0.25, 0.25], [0.75, 0.75]], np.float32)}]
    specs = [[{"name": "box", "type": "rectangles", "color": [1, 0, 0, 1]}]]
    rendered = run(app, items, specs=specs, tensors=[{"name": "", "type": "color"}], renderer=renderer)
    red = rendered[0][..., 0] == 255
    assert red.any() and not red[H // 2, W // 2]  # an outline, not a fill


def test_a_spec_naming_a_missing_tensor_raises(app):
    with pytest.raises(TensorError, match=r"operator 'holoviz'.*'tools'.*tensors received: \['', 'mask'\]"):
        run(app, frames(1), tensors=[{"name": "tools", "type": "crosses"}])


def test_a_tensor_unfit_for_its_layer_raises_naming_the_operator(app, renderer):
    bad = {"": np.zeros((H, W, 7), np.float64)}
    with pytest.raises(TensorError, match=r"^operator 'holoviz': input spec '' \(color\): expected HxWxC"):
        run(app, [bad], tensors=[{"name": "", "type": "color"}], renderer=renderer)


def test_bad_parameters_raise_naming_the_operator(app):
    with pytest.raises(ConfigError, match=r"operator 'holoviz'.*tensors.*unknown type 'blob'"):
        run(app, frames(1), tensors=[{"name": "", "type": "blob"}])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"color_lut": [[1, 0, 0]]}, "4 components"),
        ({"fullscreen": True}, "fullscreen and headless"),
        ({"enable_camera_pose_output": True, "camera_pose_output_type": "extrinsics_model"}, "not supported"),
        ({"renderer": "vulkan"}, "renderer must be"),
        ({"headless": False, "renderer": "software"}, "a window needs OpenGL"),
    ],
)
def test_configuration_errors(app, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        run(app, frames(1), **kwargs)


def test_a_window_without_a_display_raises_a_clear_error(app, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    viz = HolovizOp(app, name="holoviz", width=W, height=H)
    app.add_flow(Source(app, frames(1), name="src"), viz, {("out", "receivers")})
    # without a display, or (checked first on a machine without EGL) without the libraries
    with pytest.raises(ResourceError, match="operator 'holoviz'.*(no display|glfw|could not load the egl)"):
        app.run()


def test_an_undrawable_tensor_is_logged_once(app, caplog):
    items = [{"odd": np.zeros((4, 4, 3), np.int64)}] * 3
    with caplog.at_level(logging.WARNING, logger="holoflow"):
        rendered = run(app, items, renderer="software")
    assert len(rendered) == 3 and (rendered[0][..., :3] == 0).all()
    assert sum("ignoring tensor 'odd'" in r.getMessage() for r in caplog.records) == 1


def test_auto_falls_back_to_software_when_opengl_cannot_load():
    """In a child where PyOpenGL cannot be imported, 'auto' warns once and still renders."""
    script = """
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        import numpy as np
        from holoflow.core import Application
        from holoflow.operators import HolovizOp
        from holoflow.testing import Recorder, Source
        app = Application([])
        viz = HolovizOp(app, name="viz", headless=True, enable_render_buffer_output=True, width=8, height=4)
        src = Source(app, [{"": np.full((4, 8, 3), 9, np.uint8)}] * 2, name="src")
        app.add_flow(src, viz, {("out", "receivers")})
        app.add_flow(viz, rx := Recorder(app, name="rx"), {("render_buffer_output", "in")})
        app.run()
        print(len(rx.received), int(np.asarray(rx.received[0][""])[0, 0, 0]))
        """
    out = run_without(["OpenGL"], script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "9"]
    assert out.stderr.count("rendering in software") == 1 and "PyOpenGL" in out.stderr


def test_holoscan_style_specs_are_mutable_and_checked(app, renderer):
    """As in Holoscan apps: build a spec, set its fields, emit a list of them on input_specs."""
    spec = HolovizOp.InputSpec("label", HolovizOp.InputType.TEXT)
    spec.text = ["HI"]
    spec.color = [1.0, 0.0, 0.0, 1.0]
    assert spec.type == "text" and spec.text == ("HI",) and spec.color == (1.0, 0.0, 0.0, 1.0)
    with pytest.raises(ConfigError, match="'label'.*color must be 4 values"):
        spec.color = [2.0, 0.0, 0.0, 1.0]
    with pytest.raises(ConfigError, match="'label'.*unknown type"):
        spec.type = "hologram"
    items = [{"label": np.array([[0.1, 0.1, 0.5]], np.float32)}]
    rendered = run(app, items, specs=[[spec]], renderer=renderer)
    red = (rendered[0][..., 0] == 255) & (rendered[0][..., 1] == 0)
    assert red.any() and not red[:, W // 2 :].all()


def test_every_scheduler_drives_the_renderer_from_its_threads(app, renderer, use_scheduler):
    """Worker threads take turns with the OpenGL context; frames match the compositor."""
    items = frames(6)
    specs = [{"name": "", "type": "color"}, {"name": "mask", "type": "color_lut", "opacity": 0.5}]
    use_scheduler(app)
    rendered = run(app, items, tensors=specs, color_lut=LUT, renderer=renderer)
    assert len(rendered) == 6
    for frame, item in zip(rendered, items, strict=True):
        layers = [(InputSpec.from_dict(s), item[s["name"]]) for s in specs]
        assert_close(frame, composite(layers, W, H, LUT), renderer)
