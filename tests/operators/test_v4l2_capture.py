"""V4L2VideoCaptureOp in running graphs: from video files (PyAV), from an emulated webcam
(linuxpy over an ioctl-level emulator), and its errors."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Operator
from holoflow.errors import CodecError, ConfigError, ResourceError
from holoflow.operators import FormatConverterOp, V4L2VideoCaptureOp
from holoflow.operators._v4l2_device import V4L2Camera, capture_devices
from holoflow.operators._v4l2_formats import yuyv_to_rgba
from holoflow.resources import ManualClock
from holoflow.schedulers import GreedyScheduler
from holoflow.testing import Recorder

from .._isolation import run_without
from ._emulated_v4l2 import MJPG, EmulatedWebcam, jpeg, pattern, rgb_to_yuyv

W, H = 64, 48


def write_clip(path, count, fps=25, size=(W, H)):
    """A lossless clip (FFV1, RGB) of ``count`` frames of ``pattern``; returns the frames."""
    av = pytest.importorskip("av")
    frames = [pattern(*size, k) for k in range(count)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "bgr0"
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return frames


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mkv"
    return path, write_clip(path, 6)


class MetaRecorder(Operator):
    """Records (message, metadata) pairs from ``in``."""

    def __init__(self, fragment, *args, **kwargs):
        self.received = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        self.received.append((np.asarray(message[""]), dict(self.metadata.items())))


class Stamps(Recorder):
    """Records the clock's time of each frame."""

    def __init__(self, fragment, clock, *args, **kwargs):
        self.clock = clock
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        op_input.receive("in")
        self.received.append(self.clock.timestamp())


def capture(app, *, sink=None, **kwargs):
    source = V4L2VideoCaptureOp(app, name="source", **kwargs)
    sink = sink or MetaRecorder(app, name="sink")
    app.add_flow(source, sink, {("signal", "in")})
    return source, sink


# -- video files ------------------------------------------------------------------------------------


def test_a_file_plays_through_as_rgba_under_every_scheduler(app, use_scheduler, clip):
    path, frames = clip
    _, sink = capture(app, device=str(path), realtime=False)
    use_scheduler(app)
    app.run()
    assert len(sink.received) == len(frames)
    for (rgba, metadata), rgb in zip(sink.received, frames):
        assert rgba.shape == (H, W, 4) and rgba.dtype == np.uint8
        assert (rgba[:, :, :3] == rgb).all() and (rgba[:, :, 3] == 255).all()
        assert metadata == {}  # Holoscan attaches its metadata in pass-through mode only


def test_a_file_is_scaled_to_the_requested_size(app, clip):
    path, frames = clip
    _, sink = capture(app, device=str(path), realtime=False, width=32, height=24)
    app.run()
    rgba = sink.received[2][0]
    assert rgba.shape == (24, 32, 4)
    halved = frames[2].reshape(24, 2, 32, 2, 3).mean(axis=(1, 3))
    assert np.abs(rgba[:, :, :3] - halved).max() <= 8  # bilinear scaling of smooth ramps


def test_yuyv_pass_through_carries_holoscans_metadata_into_a_format_converter(app, use_scheduler, clip):
    """Holoscan's camera example: YUYV as captured, converted by FormatConverterOp."""
    path, frames = clip
    source = V4L2VideoCaptureOp(app, name="source", device=str(path), pass_through=True, pixel_format="YUYV")
    raw = MetaRecorder(app, name="raw")
    converter = FormatConverterOp(app, name="converter", in_dtype="yuyv", out_dtype="rgb888")
    rgb = Recorder(app, name="rgb")
    app.add_flow(source, raw, {("signal", "in")})
    app.add_flow(source, converter, {("signal", "source_video")})
    app.add_flow(converter, rgb, {("tensor", "in")})
    use_scheduler(app)
    app.run()
    assert len(raw.received) == len(rgb.received) == len(frames)
    yuyv, metadata = raw.received[0]
    assert yuyv.shape == (H, W, 2)
    assert metadata == {
        "V4L2_pixel_format": "YUYV",
        "V4L2_ycbcr_encoding": "V4L2_YCBCR_ENC_DEFAULT",
        "V4L2_quantization": "V4L2_QUANTIZATION_DEFAULT",
    }
    assert np.asarray(rgb.received[0][""]).shape == (H, W, 3)


def test_a_file_delivered_as_yuyv_is_converted_by_holoscans_yuyv_converter(app, clip):
    av = pytest.importorskip("av")
    path, _ = clip
    _, sink = capture(app, device=str(path), realtime=False, pixel_format="YUYV")
    app.run()
    with av.open(str(path)) as container:
        reference = [f.to_ndarray(format="yuyv422") for f in container.decode(video=0)]
    assert len(sink.received) == len(reference)
    for (rgba, _), yuyv in zip(sink.received, reference):
        assert (rgba == yuyv_to_rgba(yuyv)).all()


def test_a_file_delivered_as_mjpeg_decodes_to_the_files_frames(app, clip):
    pytest.importorskip("PIL")
    path, frames = clip
    _, sink = capture(app, device=str(path), realtime=False, pixel_format="MJPG")
    app.run()
    for (rgba, _), rgb in zip(sink.received, frames):
        error = np.abs(rgba[:, :, :3].astype(int) - rgb)
        assert error.mean() < 2 and error.max() <= 12


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        ({"pixel_format": "AB24"}, (H, W, 4)),
        ({"pixel_format": "RGB3"}, (H, W, 3)),
        ({"pixel_format": "BGR3"}, (H, W, 3)),
        ({"pixel_format": "GREY"}, (H, W, 1)),
        ({"pixel_format": "NV12"}, (H * 3 // 2, W)),
        ({"pixel_format": "YU12"}, (H * 3 // 2, W)),
    ],
)
def test_pass_through_delivers_the_requested_camera_format(app, clip, kwargs, shape):
    path, frames = clip
    _, sink = capture(app, device=str(path), realtime=False, pass_through=True, **kwargs)
    app.run()
    frame, metadata = sink.received[1]
    assert frame.shape == shape and metadata["V4L2_pixel_format"] == kwargs["pixel_format"]
    if kwargs["pixel_format"] == "BGR3":
        assert (frame == frames[1][:, :, ::-1]).all()
    if kwargs["pixel_format"] == "RGB3":
        assert (frame == frames[1]).all()


def test_an_rgb24_capture_converts_with_an_opaque_alpha(app, clip):
    path, frames = clip
    _, sink = capture(app, device=str(path), realtime=False, pixel_format="RGB3")
    app.run()
    rgba = sink.received[3][0]
    assert (rgba[:, :, :3] == frames[3]).all() and (rgba[:, :, 3] == 255).all()


def test_playback_is_paced_at_the_files_rate_or_frame_rate(app, tmp_path):
    path = tmp_path / "clip.mkv"
    write_clip(path, 4, fps=25)
    for frame_rate, period in [(0.0, 40_000_000), (20.0, 50_000_000)]:
        app = type(app)([])
        clock = ManualClock(app)
        capture(app, device=str(path), frame_rate=frame_rate, sink=(sink := Stamps(app, clock, name="sink")))
        app.scheduler(GreedyScheduler(app, clock=clock))
        app.run()
        assert sink.received == [k * period for k in range(4)]


def test_realtime_false_plays_as_fast_as_the_graph_takes_frames(app, tmp_path):
    path = tmp_path / "clip.mkv"
    write_clip(path, 4, fps=1)
    clock = ManualClock(app)
    capture(app, device=str(path), realtime=False, sink=(sink := Stamps(app, clock, name="sink")))
    app.scheduler(GreedyScheduler(app, clock=clock))
    app.run()
    assert sink.received == [0, 0, 0, 0]


def test_repeat_loops_the_file_until_a_count_condition_stops_it(app, use_scheduler, tmp_path):
    path = tmp_path / "clip.mkv"
    frames = write_clip(path, 3)
    count = CountCondition(app, 8, name="count")
    source = V4L2VideoCaptureOp(app, count, name="source", device=str(path), repeat=True, realtime=False)
    app.add_flow(source, sink := MetaRecorder(app, name="sink"), {("signal", "in")})
    use_scheduler(app)
    app.run()
    reds = [int(rgba[0, 0, 0]) for rgba, _ in sink.received]
    assert reds == [int(frames[k % 3][0, 0, 0]) for k in range(8)]


def test_runs_again_from_the_first_frame(app, clip):
    path, frames = clip
    _, sink = capture(app, device=str(path), realtime=False)
    app.run()
    app.run()
    assert len(sink.received) == 2 * len(frames)
    assert (sink.received[len(frames)][0][:, :, :3] == frames[0]).all()


# -- errors ---------------------------------------------------------------------------------------


def test_no_device_is_a_clear_error_listing_the_devices_found(app):
    capture(app, device="/dev/video_holoflow_missing")
    with pytest.raises(ResourceError) as info:
        app.run()
    found = ", ".join(capture_devices()) or "none"
    assert str(info.value) == (
        f"operator 'source': no V4L2 device '/dev/video_holoflow_missing'; V4L2 capture devices found: "
        f"{found}. device may also name a video file or a stream URL (read through PyAV)"
    )


def test_a_missing_file_is_named_as_neither_device_nor_file(app, tmp_path):
    capture(app, device=str(tmp_path / "missing.mp4"))
    with pytest.raises(ResourceError, match="no V4L2 device or video file '.*missing.mp4'; V4L2 capture"):
        app.run()


def test_a_file_that_is_not_a_video_is_a_codec_error(app, tmp_path):
    pytest.importorskip("av")
    (text := tmp_path / "notes.txt").write_text("not a video\n")
    capture(app, device=str(text))
    with pytest.raises(CodecError, match=r"operator 'source': .*notes.txt: cannot open"):
        app.run()


def test_a_character_device_that_is_not_v4l2_is_named(app):
    pytest.importorskip("linuxpy")
    capture(app, device="/dev/null")
    with pytest.raises(ResourceError, match="operator 'source': /dev/null is not a V4L2 device"):
        app.run()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"device": ""}, "'device' must be a device path, video file or URL, got ''"),
        ({"width": -1}, r"'width' must be an integer >= 0 \(0: the device's\), got -1"),
        ({"height": 240.5}, "'height' must be an integer >= 0 .*got 240.5"),
        ({"width": True}, "'width' must be an integer"),
        ({"frame_rate": -30.0}, "'frame_rate' must be a number >= 0"),
        ({"frame_rate": math.inf}, "'frame_rate' must be a number >= 0 .*got inf"),
        ({"frame_rate": "30"}, "'frame_rate' must be a number >= 0 .*got '30'"),
        ({"num_buffers": 0}, "'num_buffers' must be an integer >= 1, got 0"),
        ({"exposure_time": -5}, r"'exposure_time' must be None \(automatic\) or an integer >= 0, got -5"),
        ({"gain": 1.5}, "'gain' must be None .*got 1.5"),
        ({"pass_through": "yes"}, "'pass_through' must be True or False, got 'yes'"),
        ({"repeat": 1}, "'repeat' must be True or False, got 1"),
        ({"pixel_format": "YUV"}, "'pixel_format' must be 'auto' or a four-character code .*got 'YUV'"),
        ({"pixel_format": 1448695129}, "'pixel_format' must be 'auto' or a four-character code"),
        ({"pixel_format": "NV12"}, r"pixel format 'NV12' has no RGBA converter \(these have: YUYV, RGB3"),
    ],
)
def test_invalid_parameters_are_config_errors_before_anything_opens(app, kwargs, message):
    capture(app, **kwargs)
    with pytest.raises(ConfigError, match=f"operator 'source': .*{message}"):
        app.run()


def test_a_file_source_offers_the_formats_it_can_make(app, clip):
    path, _ = clip
    capture(app, device=str(path), pass_through=True, pixel_format="BA24")
    offered = "AB24, RGB3, BGR3, YUYV, GREY, NV12, YU12, MJPG"
    with pytest.raises(ResourceError, match=f"delivers pixel formats {offered}; got 'BA24'"):
        app.run()


def test_odd_sizes_are_refused_for_subsampled_formats(app, clip):
    path, _ = clip
    capture(app, device=str(path), pixel_format="YUYV", width=33, height=24)
    with pytest.raises(ResourceError, match="YUYV frames need an even width; the size is 33x24"):
        app.run()


def test_without_the_optional_packages_import_works_and_start_names_the_extra(tmp_path):
    (clip_path := tmp_path / "clip.mkv").write_bytes(b"\0")
    script = f"""
        import holoflow.operators.v4l2_video_capture as module
        from holoflow.core import Application
        from holoflow.errors import ResourceError
        from holoflow.operators import V4L2VideoCaptureOp
        from holoflow.testing import Recorder
        assert module.V4L2VideoCaptureOp is V4L2VideoCaptureOp
        for device in ("/dev/null", {str(clip_path)!r}):
            app = Application([])
            app.add_flow(V4L2VideoCaptureOp(app, name="cap", device=device), Recorder(app, name="rx"))
            try:
                app.run()
            except ResourceError as exc:
                print(exc)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        """
    out = run_without(["linuxpy", "av", "PIL"], script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "operator 'cap': capturing from a V4L2 device needs linuxpy: pip install 'holoflow[v4l2]'",
        "operator 'cap': capturing from a video file or URL needs PyAV: pip install 'holoflow[video]'",
    ]


# -- an emulated webcam -----------------------------------------------------------------------------


@pytest.fixture
def webcam(monkeypatch, tmp_path):
    """An emulated UVC webcam at ``webcam.node`` (a regular file standing in for /dev/video0)."""
    pytest.importorskip("linuxpy")
    camera = EmulatedWebcam()
    camera.node = tmp_path / "video0"
    camera.install(monkeypatch, camera.node)
    return camera


def test_the_camera_is_set_up_as_holoscan_sets_it_up(webcam):
    camera = V4L2Camera(str(webcam.node), width=320, height=240, frame_rate=20, exposure_time=100, gain=5)
    try:
        assert (camera.fourcc, camera.width, camera.height) == ("YUYV", 320, 240)
        assert camera.bytes_per_line == 768  # the driver pads rows to 256 bytes
        assert camera.frame_interval == Fraction(1, 15)  # 15 fps is nearer 20 than 30
        # Shutter priority is refused, so manual exposure; no AUTOGAIN control, so only the gain.
        assert webcam.controls == {"exposure_auto": 1, "exposure": 100, "gain": 5}
        assert webcam.requested == [4] and webcam.streaming
    finally:
        camera.close()
    assert webcam.requested == [4, 0] and not webcam.streaming


def test_automatic_exposure_falls_back_to_aperture_priority(webcam):
    V4L2Camera(str(webcam.node), num_buffers=2).close()
    assert webcam.controls == {"exposure_auto": 3}
    assert webcam.requested == [2, 0]


def test_camera_frames_are_copies_with_the_padding_sliced_off(webcam):
    camera = V4L2Camera(str(webcam.node), width=320, height=240)
    try:
        frames = [camera.read(1.0) for _ in range(5)]  # more reads than buffers: each is requeued
    finally:
        camera.close()
    for k, frame in enumerate(frames):
        assert frame.shape == (240, 320, 2) and frame.flags.writeable
        assert (frame == rgb_to_yuyv(pattern(320, 240, k))).all()


def test_frames_the_driver_marks_as_errors_are_skipped(webcam):
    webcam.corrupt = {1, 2}
    camera = V4L2Camera(str(webcam.node), width=320, height=240)
    try:
        frames = [camera.read(1.0) for _ in range(3)]
    finally:
        camera.close()
    for k, frame in zip([0, 3, 4], frames):
        assert (frame == rgb_to_yuyv(pattern(320, 240, k))).all()


def test_a_stalled_camera_times_out(webcam):
    camera = V4L2Camera(str(webcam.node))
    webcam.stalled = True
    try:
        with pytest.raises(ResourceError, match=r"video0: no frame within 0.05 s"):
            camera.read(0.05)
    finally:
        camera.close()


def test_mjpeg_pass_through_delivers_the_compressed_bytes(webcam):
    camera = V4L2Camera(str(webcam.node), pixel_format="MJPG", pass_through=True)
    try:
        frame = camera.read(1.0)
    finally:
        camera.close()
    assert webcam.pixelformat == MJPG and camera.compressed
    assert frame.tobytes() == jpeg(pattern(640, 480, 0))


def test_the_camera_refuses_what_it_does_not_offer(webcam):
    with pytest.raises(ResourceError, match="does not offer pixel format 'NV12'; it offers: YUYV, MJPG"):
        V4L2Camera(str(webcam.node), pixel_format="NV12", pass_through=True)
    with pytest.raises(ResourceError, match="does not capture 800x600; sizes offered: 640x480, 320x240"):
        V4L2Camera(str(webcam.node), width=800, height=600)
    assert not webcam.streaming and webcam.buffers == 0


@pytest.fixture
def webcam_node(webcam, monkeypatch):
    """The emulated webcam's node, which the operator takes for a V4L2 device (it is a regular
    file, so the operator's character-device test is pointed at it)."""
    from holoflow.operators import _v4l2_video_capture

    node = str(webcam.node)
    monkeypatch.setattr(_v4l2_video_capture, "_is_char_device", lambda path: path == node)
    return node


def test_the_operator_captures_and_converts_camera_frames_under_every_scheduler(
    app, use_scheduler, webcam, webcam_node
):
    source = V4L2VideoCaptureOp(
        app, CountCondition(app, 5, name="count"), name="source", device=webcam_node, width=320, height=240
    )
    app.add_flow(source, sink := MetaRecorder(app, name="sink"), {("signal", "in")})
    use_scheduler(app)
    app.run()
    assert len(sink.received) == 5
    for k, (rgba, metadata) in enumerate(sink.received):
        assert rgba.shape == (240, 320, 4) and metadata == {}
        assert np.abs(rgba[:, :, :3].astype(int) - pattern(320, 240, k)).max() <= 2
    assert not webcam.streaming and webcam.buffers == 0  # stop() released the device


def test_the_operator_passes_camera_mjpeg_through_with_the_drivers_metadata(app, webcam, webcam_node):
    count = CountCondition(app, 2, name="count")
    source = V4L2VideoCaptureOp(
        app, count, name="source", device=webcam_node, pass_through=True, pixel_format="MJPG"
    )
    app.add_flow(source, sink := MetaRecorder(app, name="sink"), {("signal", "in")})
    app.run()
    frame, metadata = sink.received[1]
    assert frame.tobytes() == jpeg(pattern(640, 480, 1))
    assert metadata == {
        "V4L2_pixel_format": "MJPG",
        "V4L2_ycbcr_encoding": "V4L2_YCBCR_ENC_601",
        "V4L2_quantization": "V4L2_QUANTIZATION_LIM_RANGE",
    }


def test_capture_devices_lists_only_nodes_that_capture(tmp_path):
    pytest.importorskip("linuxpy")
    (tmp_path / "video0").write_bytes(b"")  # a regular file answers no V4L2 ioctl
    assert capture_devices(str(tmp_path)) == []


@pytest.mark.skipif(not capture_devices(), reason="no V4L2 capture device on this machine")
def test_a_real_camera_delivers_rgba_frames(app):
    device = capture_devices()[0].split(" ")[0]
    source = V4L2VideoCaptureOp(app, CountCondition(app, 3, name="count"), name="source", device=device)
    app.add_flow(source, sink := MetaRecorder(app, name="sink"), {("signal", "in")})
    app.run()
    assert len(sink.received) == 3
    assert all(rgba.ndim == 3 and rgba.shape[2] == 4 and rgba.dtype == np.uint8 for rgba, _ in sink.received)
