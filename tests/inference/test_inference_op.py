"""InferenceOp's own behaviour — maps, batching, several models, temporal and activation maps,
state, errors, parallel inference and the shape rules — on FunctionBackend models, so these tests
need no inference framework. The real backends have their own files."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

from holoflow.errors import ConfigError, TensorError
from holoflow.inference import FunctionBackend, TensorSpec
from holoflow.operators import InferenceOp
from holoflow.testing import Recorder, Source


def spec(name, *shape, dtype="float32"):
    return TensorSpec(name, shape, np.dtype(dtype))


def channel_sum(calls=None):
    """x (1, 3, 8, 8) -> y = the sum over channels (1, 1, 8, 8), z = the mean (a scalar)."""

    def fn(x):
        if calls is not None:
            calls.append(x.shape)
        return x.sum(axis=1, keepdims=True), np.float32(x.mean())

    return FunctionBackend(fn, inputs=[spec("x", 1, 3, 8, 8)], outputs=[spec("y", 1, 1, 8, 8), spec("z")])


def doubler(calls=None, shape=(1, 4), **kwargs):
    def fn(x):
        if calls is not None:
            calls.append(x.shape)
        return x * 2

    return FunctionBackend(fn, inputs=[spec("x", *shape)], outputs=[spec("y", *shape)], **kwargs)


def run(app, frames, **kwargs):
    inference = InferenceOp(app, name="inference", transmit_on_cuda=False, **kwargs)
    app.add_flow(Source(app, frames, name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    app.run()
    return rx.received


def single(backend, inputs=("image",), outputs=("seg", "mean")):
    return {
        "backend": backend,
        "model_path_map": {"net": "(a function: the path is not read)"},
        "pre_processor_map": {"net": list(inputs)},
        "inference_map": {"net": list(outputs)},
    }


def test_outputs_are_the_function_s_with_the_batch_dimension_added(app, use_scheduler):
    rng = np.random.default_rng(1)
    frames = [{"image": rng.standard_normal((3, 8, 8)).astype(np.float32), "other": 1} for _ in range(3)]
    calls = []
    use_scheduler(app)
    received = run(app, frames, **single(channel_sum(calls)))
    assert calls == [(1, 3, 8, 8)] * 3
    for message, frame in zip(received, frames, strict=True):
        np.testing.assert_array_equal(np.asarray(message["seg"]), frame["image"].sum(axis=0)[None, None])
        assert float(np.asarray(message["mean"])) == pytest.approx(float(frame["image"].mean()), rel=1e-6)


def test_several_models_in_parallel_run_at_the_same_time(app):
    both_running = threading.Barrier(2, timeout=10)  # broken unless the two models overlap

    def waiting(operation):
        def fn(x):
            both_running.wait()
            return operation(x)

        return FunctionBackend(fn)

    frame = {"image": np.ones((3, 8, 8), np.float32), "vector": np.arange(4, dtype=np.float32).reshape(1, 4)}
    received = run(
        app,
        [frame],
        backend=waiting(lambda x: x + 1),
        backend_map={"scale": waiting(lambda x: x * 2)},
        model_path_map={"plus": "", "scale": ""},
        pre_processor_map={"plus": "image", "scale": "vector"},  # bare strings, as Holoscan accepts
        inference_map={"plus": "plus_one", "scale": "doubled"},
        parallel_inference=True,
    )
    assert set(received[0]) == {"plus_one", "doubled"}
    np.testing.assert_array_equal(np.asarray(received[0]["doubled"]), [[0, 2, 4, 6]])
    np.testing.assert_array_equal(np.asarray(received[0]["plus_one"]), np.full((3, 8, 8), 2, np.float32))


def test_without_parallel_inference_models_run_on_the_operator_s_thread(app):
    threads = []

    def record(x):
        threads.append(threading.current_thread())
        return x

    received = run(
        app,
        [{"v": np.ones((1, 4), np.float32)}],
        backend=FunctionBackend(record),
        model_path_map={"a": "", "b": ""},
        pre_processor_map={"a": ["v"], "b": ["v"]},
        inference_map={"a": ["ya"], "b": ["yb"]},
        parallel_inference=False,
    )
    assert set(received[0]) == {"ya", "yb"}
    assert len(threads) == 2 and threads[0] is threads[1]
    assert not threads[0].name.startswith("inference-model")


def test_temporal_and_activation_maps_re_emit_the_last_result(app):
    frames = [{"vector": np.full((1, 4), i, np.float32)} for i in range(5)]
    calls_a, calls_b = [], []
    received = run(
        app,
        frames,
        backend=doubler(calls_a),
        backend_map={"b": doubler(calls_b)},
        model_path_map={"a": "", "b": ""},
        pre_processor_map={"a": ["vector"], "b": ["vector"]},
        inference_map={"a": ["ya"], "b": ["yb"]},
        temporal_map={"a": "2"},
        activation_map={"b": "0"},
    )
    assert [float(np.asarray(m["ya"])[0, 0]) for m in received] == [0, 0, 4, 4, 8]  # frames 1, 3, 5
    assert [float(np.asarray(m["yb"])[0, 0]) for m in received] == [0] * 5  # inactive after the first
    assert (len(calls_a), len(calls_b)) == (3, 1)


def test_stateful_model_feeds_its_state_back(app):
    accumulate = FunctionBackend(
        lambda x, h: (x + h, x + h),
        inputs=[spec("x", 1, 4), spec("h", 1, 4)],
        outputs=[spec("y", 1, 4), spec("h_next", 1, 4)],
    )
    frames = [{"x": np.full((1, 4), i, np.float32)} for i in range(1, 5)]
    received = run(
        app,
        frames,
        backend=accumulate,
        model_path_map={"acc": ""},
        pre_processor_map={"acc": ["x", "h"]},
        inference_map={"acc": ["y", "h_next"]},
        state_map={"acc": {"h_next": "h"}},
    )
    assert [float(np.asarray(m["y"])[0, 0]) for m in received] == [1, 3, 6, 10]  # running sums


def test_a_state_input_needs_a_static_shape(app):
    accumulate = FunctionBackend(lambda x, h: (x + h, x + h), inputs=[spec("x", 1, 4), spec("h", -1, 4)])
    with pytest.raises(
        ConfigError,
        match=re.escape("operator 'inference': model 'acc': state input 'h' needs a static shape"),
    ):
        run(
            app,
            [{"x": np.ones((1, 4), np.float32)}],
            backend=accumulate,
            model_path_map={"acc": ""},
            pre_processor_map={"acc": ["x", "h"]},
            inference_map={"acc": ["y", "h_next"]},
            state_map={"acc": {"h_next": "h"}},
        )


def test_missing_tensor_names_model_and_what_arrived(app):
    with pytest.raises(
        TensorError,
        match=re.escape(
            "operator 'inference': model 'net' needs tensor 'image', which no message on 'receivers' has; "
            "tensors received: ['frame']"
        ),
    ):
        run(app, [{"frame": np.zeros((3, 8, 8), np.float32)}], **single(channel_sum()))


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((3, 7, 8), np.float32), "shape (3, 7, 8) does not fit the model input [1, 3, 8, 8]"),
        (np.zeros((3, 8, 8), np.float64), "dtype float64 is not accepted"),
        (np.zeros((3, 8, 8), np.int32), "the model expects float32, got int32"),
    ],
)
def test_bad_input_names_operator_model_tensor_and_expectation(app, array, message):
    with pytest.raises(
        TensorError, match=re.escape(f"operator 'inference': model 'net', tensor 'image': {message}")
    ):
        run(app, [{"image": array}], **single(channel_sum()))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_path_map": {}}, "operator 'inference': model_path_map is empty"),
        ({"pre_processor_map": {"other": ["x"]}}, "pre_processor_map has models ['other']"),
        ({"backend": ""}, "no backend for model 'net'; set backend or backend_map"),
        (
            {"backend": 3},
            "the backend of model 'net' must be a backend name or a holoflow.inference.Backend, not int",
        ),
        (
            {"inference_map": {"net": ["only_one"]}},
            "model 'net' has 2 outputs ['y', 'z']; inference_map names",
        ),
        (
            {"pre_processor_map": {"net": ["a", "b"]}},
            "model 'net' has 1 inputs ['x']; pre_processor_map names",
        ),
        ({"backend": "tflite"}, "operator 'inference': model 'net': unknown inference backend 'tflite'"),
    ],
)
def test_configuration_errors(app, kwargs, message):
    inference = InferenceOp(app, name="inference", **(single(channel_sum()) | kwargs))
    app.add_flow(Source(app, [], name="src"), inference, {("out", "receivers")})
    with pytest.raises(ConfigError, match=re.escape(message)):
        app.run()


def test_a_model_returning_another_number_of_outputs(app):
    undescribed = FunctionBackend(lambda x: x)
    with pytest.raises(
        TensorError,
        match=re.escape(
            "operator 'inference': model 'net' returned 1 outputs; inference_map names ['seg', 'mean']"
        ),
    ):
        run(app, [{"image": np.zeros((3, 8, 8), np.float32)}], **single(undescribed))


# The shape rules (InferenceOp's docstring): dimensions agree in order, <= 0 matches anything,
# one missing leading dimension is fed as a batch of 1.
@pytest.mark.parametrize(
    ("model", "shape", "fed"),
    [
        ((1, 3, 8, 8), (1, 3, 8, 8), (1, 3, 8, 8)),
        ((1, 3, 8, 8), (3, 8, 8), (1, 3, 8, 8)),  # the batch dimension is added
        ((1, 3, 8, 8), (8, 8, 3), None),  # a transposed layout does not fit (Holoscan lets it through)
        ((1, 3, 8, 8), (1, 8, 3, 8), None),
        ((1, 3, 6), (1, 6, 3), None),
        ((-1, 3, 8, 8), (1, 3, 8, 8), (1, 3, 8, 8)),
        ((-1, 3, 8, 8), (3, 8, 8), (1, 3, 8, 8)),  # the wildcard takes the added 1
        ((1, 3, 8, 8), (3, 7, 8), None),
        ((1, 3, 8, 8), (1, 1, 3, 8, 8), None),  # one dimension too many
        ((1, 3, 8, 8), (8, 8), None),  # two too few
        ((2, 3, 8, 8), (3, 8, 8), None),  # only a batch of 1 is added
        ((-1, 3, 8, 8), (5, 3, 8, 8), (5, 3, 8, 8)),  # a wildcard takes any size in its place
        ((1, -1, 8, 8), (1, 8, 8, 3), None),
    ],
)
def test_shape_rules(app, model, shape, fed):
    calls = []
    backend = FunctionBackend(
        lambda x: (calls.append(x.shape), x)[1], inputs=[spec("x", *model)], outputs=[spec("y", *model)]
    )
    options = single(backend, outputs=("out",))
    frames = [{"image": np.zeros(shape, np.float32)}]
    if fed is None:
        message = f"shape {shape} does not fit the model input {list(model)}"
        with pytest.raises(TensorError, match=re.escape(message)):
            run(app, frames, **options)
    else:
        run(app, frames, **options)
        assert calls == [fed]


def test_dynamic_input_dims_feeds_any_shape(app):
    calls = []
    shapes = [(1, 6), (5, 4), (6,), (2, 2, 2)]
    run(
        app,
        [{"v": np.zeros(s, np.float32)} for s in shapes],
        backend=doubler(calls),
        model_path_map={"m": ""},
        pre_processor_map={"m": ["v"]},
        inference_map={"m": ["y"]},
        dynamic_input_dims=True,
    )
    assert calls == [(1, 6), (5, 4), (1, 6), (2, 2, 2)]  # a missing batch dimension is still added


def test_dynamic_input_dims_still_checks_the_dtype(app):
    with pytest.raises(TensorError, match=re.escape("tensor 'v': the model expects float32, got uint8")):
        run(
            app,
            [{"v": np.zeros((1, 6), np.uint8)}],
            backend=doubler(),
            model_path_map={"m": ""},
            pre_processor_map={"m": ["v"]},
            inference_map={"m": ["y"]},
            dynamic_input_dims=True,
        )


def test_every_new_shape_is_checked_once(app):
    """The check runs on the first frame of each new shape (not only on the first frame, as
    Holoscan does), and its verdict is kept for that shape's later frames."""
    frames = [{"image": np.zeros(s, np.float32)} for s in [(3, 8, 8), (3, 8, 8), (1, 3, 8, 8), (3, 8, 9)]]
    inference = InferenceOp(app, name="inference", transmit_on_cuda=False, **single(channel_sum()))
    app.add_flow(Source(app, frames, name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    with pytest.raises(TensorError, match=re.escape("shape (3, 8, 9) does not fit")):
        app.run()
    assert len(rx.received) == 3
    assert set(inference._fitted) == {  # white box: one verdict per (model, tensor, shape, dtype)
        ("net", "image", (3, 8, 8), np.dtype(np.float32)),
        ("net", "image", (1, 3, 8, 8), np.dtype(np.float32)),
    }


def test_an_undescribed_model_gets_the_tensors_as_they_arrive(app):
    calls = []
    backend = FunctionBackend(lambda x: (calls.append(x.shape), x)[1])
    received = run(app, [{"image": np.ones((3, 8, 8), np.float32)}], **single(backend, outputs=("out",)))
    assert calls == [(3, 8, 8)]
    np.testing.assert_array_equal(np.asarray(received[0]["out"]), np.ones((3, 8, 8), np.float32))
