"""ONNX Runtime's threads: one per call by default (as Holoscan), configurable per backend and
through InferenceOp's ``backend_options``."""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest

from holoflow.errors import ConfigError
from holoflow.inference import load_backend
from holoflow.operators import InferenceOp
from holoflow.testing import Recorder, Source

ort = pytest.importorskip("onnxruntime")

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")


def _threads() -> set[str]:
    """The process's thread ids, after a collection (so that sessions freed by earlier tests have
    ended their threads rather than end them while a test counts)."""
    gc.collect()
    return set(os.listdir("/proc/self/task"))


def test_one_thread_per_call_and_no_spinning_by_default(conv_model):
    backend = load_backend("onnxrt", conv_model, device="cpu")
    options = backend.session.get_session_options()
    assert backend.intra_op_num_threads == 1
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"


@linux_only
@pytest.mark.parametrize(("threads", "helpers"), [(1, 0), (3, 2)])
def test_the_session_starts_one_helper_thread_less_than_it_may_use(conv_model, threads, helpers):
    """The calling thread is the first of a call's threads: one thread means no pool at all."""
    before = _threads()
    backend = load_backend("onnxrt", conv_model, device="cpu", intra_op_num_threads=threads)
    assert len(_threads() - before) == helpers
    x = np.ones((1, 3, 8, 8), np.float32)
    assert backend.infer([x])[0].shape == (1, 2, 8, 8)


def test_session_config_entries_are_added_after_holoflows(conv_model):
    backend = load_backend(
        "onnxrt",
        conv_model,
        device="cpu",
        intra_op_num_threads=0,
        session_config={"session.intra_op.allow_spinning": True, "session.force_spinning_stop": 1},
    )
    options = backend.session.get_session_options()
    assert options.intra_op_num_threads == 0  # ONNX Runtime's own default
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"


@pytest.mark.parametrize("threads", [-1, True, 1.5, "2"])
def test_a_bad_thread_count_is_refused(conv_model, threads):
    with pytest.raises(ConfigError, match=r"^intra_op_num_threads must be an int >= 0 \(0: ONNX Runtime's"):
        load_backend("onnxrt", conv_model, device="cpu", intra_op_num_threads=threads)


@pytest.mark.parametrize("config", [["session.x"], {1: "a"}, "session.x=1"])
def test_a_bad_session_config_is_refused(conv_model, config):
    with pytest.raises(ConfigError, match="^session_config must map ONNX Runtime config keys to values"):
        load_backend("onnxrt", conv_model, device="cpu", session_config=config)


def _inference(app, conv_model, **kwargs):
    inference = InferenceOp(
        app,
        name="inference",
        backend="onnxrt",
        infer_on_cpu=True,
        transmit_on_cuda=False,
        model_path_map={"net": conv_model},
        pre_processor_map={"net": ["image"]},
        inference_map={"net": ["seg", "mean"]},
        **kwargs,
    )
    frames = [{"image": np.ones((3, 8, 8), np.float32)}]
    app.add_flow(Source(app, frames, name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    return inference, rx


def test_inference_op_passes_backend_options(app, use_scheduler, conv_model):
    use_scheduler(app)
    inference, rx = _inference(app, conv_model, backend_options={"intra_op_num_threads": 2})
    app.run()
    assert inference._backends["net"].intra_op_num_threads == 2
    assert np.asarray(rx.received[0]["seg"]).shape == (1, 2, 8, 8)


def test_inference_op_default_is_one_thread(app, conv_model):
    inference, _rx = _inference(app, conv_model)
    app.run()
    assert inference._backends["net"].intra_op_num_threads == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"threads": 2},
            r"^operator 'inference': model 'net': unknown inference backend options \['threads'\]",
        ),
        (
            {"is_engine_path": True},
            r"^operator 'inference': backend_options \['is_engine_path'\] are InferenceOp",
        ),
        (["intra_op_num_threads"], r"^operator 'inference': backend_options must map option names to values"),
        ({"intra_op_num_threads": -2}, r"^operator 'inference': model 'net': intra_op_num_threads must be"),
    ],
)
def test_bad_backend_options_name_the_operator(app, conv_model, options, message):
    _inference(app, conv_model, backend_options=options)
    with pytest.raises(ConfigError, match=message):
        app.run()
