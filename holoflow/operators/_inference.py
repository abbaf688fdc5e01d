"""``InferenceOp``: run one or more models on the tensors of incoming messages."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow._helpers import warn_once
from holoflow.core import IOSpec, Operator, OperatorSpec
from holoflow.errors import ConfigError, CPUFallbackWarning, ResourceError, TensorError
from holoflow.inference import Backend, TensorSpec, load_backend, trt_unavailable_reason
from holoflow.tensor import (
    Tensor,
    as_tensor,
    cuda_available,
    cupy_module,
    device_view,
    external_stream,
    is_tensor_like,
    to_host,
)

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OutputContext

__all__ = ["InferenceOp"]

_ACCEPTED = {np.dtype(t) for t in (np.float32, np.float16, np.int32, np.int64, np.int8, np.uint8)}
_ENGINE_SUFFIXES = (".engine", ".plan")
"""Model files that are serialized TensorRT engines, not ONNX."""
_FITS_MAX = 256  # verified (model, tensor, shape, dtype) entries kept; a stream of new shapes resets it


def _names(value: Any) -> list[str]:
    """A bare string in a map becomes a one-item list (as Holoscan accepts)."""
    return [value] if isinstance(value, str) else [str(v) for v in value]


class InferenceOp(Operator):
    """Run the models of ``model_path_map`` on tensors arriving on ``receivers``.

    Holoscan's parameter model: ``backend`` (``onnxrt``, ``torch``, ``trt``) or a per-model
    ``backend_map``; ``pre_processor_map`` names each model's input tensors in model-input order,
    ``inference_map`` its output tensors in model-output order; ``infer_on_cpu``,
    ``input_on_cuda``, ``output_on_cuda``, ``transmit_on_cuda``, ``enable_fp16``,
    ``is_engine_path``, ``dynamic_input_dims``, ``temporal_map`` (run a model every N frames and
    re-emit its last result in between), ``activation_map`` (``"0"`` switches a model off: its
    last result is re-emitted), ``parallel_inference``. holoflow adds ``state_map``:
    ``{model: {output_tensor: input_tensor}}`` feeds an output back as an input on the next frame
    (zeros before the first), for stateful models such as a convolutional LSTM, and
    ``backend_options``: options for the backends loaded by name (see
    :func:`holoflow.inference.load_backend`; for ``onnxrt``, ``intra_op_num_threads`` — 1 by
    default, as in Holoscan — and ``session_config``). holoflow also
    accepts a :class:`~holoflow.inference.Backend` instance (such as a
    :class:`~holoflow.inference.FunctionBackend`) as a ``backend`` or ``backend_map`` value, set
    in code: that model runs on the instance as it is (its own device; ``infer_on_cpu``,
    ``enable_fp16``, ``is_engine_path`` and ``enable_cuda_graphs`` do not apply, and its
    ``model_path_map`` entry is not read). A configuration file names backends, never code.

    A backend name is loaded with ``device="cpu"`` under ``infer_on_cpu``, else ``"auto"`` (each
    backend decides: see :func:`holoflow.inference.load_backend`). Where TensorRT cannot run (not
    installed, or no CUDA device), a ``trt`` model runs its ONNX file with ONNX Runtime instead,
    warned once per process (:class:`~holoflow.errors.CPUFallbackWarning`); a TensorRT engine
    file there is a ``ConfigError``.

    Input tensors are looked up by name across every message received (the first match wins)
    and fed in their own layout. A tensor fits a model input when its dimensions agree with the
    model's in order (model dimensions <= 0 match anything; Holoscan compares them sorted, which
    lets a transposed tensor through to fail in the runtime); one missing leading dimension is fed
    as a batch of 1. Unless ``dynamic_input_dims``, a tensor
    that does not fit raises; the check runs once per new (model, tensor, shape, dtype), not
    per frame. All outputs go out in one dict on ``transmitter``.

    Raises
    ------
    holoflow.errors.ConfigError
        Before the first frame: inconsistent maps, no or an unknown backend, a model file that
        is missing or unreadable, or a model whose input or output count differs from the maps.
    holoflow.errors.TensorError
        On a frame: a missing input tensor, an unaccepted dtype or one other than the model's,
        a shape that does not fit, or a model that returns another number of outputs than
        ``inference_map`` names.
    """

    backend: str | Backend
    backend_map: dict[str, str | Backend]
    model_path_map: dict[str, str]
    pre_processor_map: dict[str, Any]
    inference_map: dict[str, Any]
    in_tensor_names: list[str]
    out_tensor_names: list[str]
    device_map: dict[str, str]
    temporal_map: dict[str, Any]
    activation_map: dict[str, Any]
    state_map: dict[str, dict[str, str]]
    infer_on_cpu: bool
    parallel_inference: bool
    input_on_cuda: bool
    output_on_cuda: bool
    transmit_on_cuda: bool
    enable_fp16: bool
    is_engine_path: bool
    dynamic_input_dims: bool
    enable_cuda_graphs: bool
    backend_options: dict[str, Any]

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("receivers", size=IOSpec.ANY_SIZE)
        spec.output("transmitter")
        for name, default in (
            ("backend", ""),
            ("backend_map", {}),
            ("model_path_map", {}),
            ("pre_processor_map", {}),
            ("inference_map", {}),
            ("in_tensor_names", []),
            ("out_tensor_names", []),
            ("device_map", {}),
            ("temporal_map", {}),
            ("activation_map", {}),
            ("state_map", {}),
            ("infer_on_cpu", False),
            ("parallel_inference", True),
            ("input_on_cuda", True),
            ("output_on_cuda", True),
            ("transmit_on_cuda", True),
            ("enable_fp16", False),
            ("is_engine_path", False),
            ("dynamic_input_dims", False),
            ("enable_cuda_graphs", False),
            ("backend_options", {}),
        ):
            spec.param(name, default)

    # -- configuration ----------------------------------------------------------------------------
    def initialize(self) -> None:
        models = list(self.model_path_map)
        if not models:
            raise ConfigError(f"{self._label()}: model_path_map is empty")
        for label, table in (
            ("pre_processor_map", self.pre_processor_map),
            ("inference_map", self.inference_map),
        ):
            if set(table) != set(models):
                raise ConfigError(
                    f"{self._label()}: {label} has models {sorted(table)}, "
                    f"model_path_map has {sorted(models)}"
                )
        for model in models:
            backend = self.backend_map.get(model) or self.backend
            if not backend:
                raise ConfigError(
                    f"{self._label()}: no backend for model '{model}'; set backend or backend_map"
                )
            if not isinstance(backend, (str, Backend)):
                raise ConfigError(
                    f"{self._label()}: the backend of model '{model}' must be a backend name or a "
                    f"holoflow.inference.Backend, not {type(backend).__name__}"
                )
        self._inputs = {m: _names(self.pre_processor_map[m]) for m in models}
        self._outputs = {m: _names(self.inference_map[m]) for m in models}
        self._backends: dict[str, Backend] = {}
        self._last: dict[str, dict[str, Any]] = {}
        self._state: dict[str, dict[str, Any]] = {}
        self._frame = 0
        # (model, tensor name, shape, dtype) verified by _check_fit -> whether a batch 1 is added
        self._fitted: dict[tuple[str, str, tuple[int, ...], np.dtype], bool] = {}

    def start(self) -> None:
        device = "cpu" if self.infer_on_cpu else "auto"
        options = {
            **self._backend_options(),
            "is_engine_path": bool(self.is_engine_path),
            "cuda_graphs": bool(self.enable_cuda_graphs),
        }
        for model, path in self.model_path_map.items():
            backend = self.backend_map.get(model) or self.backend
            if backend == "trt" and not self.infer_on_cpu:
                backend = self._backend_for_trt(model, str(path))
            if not isinstance(backend, Backend):
                try:
                    backend = load_backend(
                        backend, str(path), device=device, enable_fp16=bool(self.enable_fp16), **options
                    )
                except ConfigError as exc:
                    raise ConfigError(f"{self._label()}: model '{model}': {exc}") from None
                except ResourceError as exc:
                    raise ResourceError(f"{self._label()}: model '{model}': {exc}") from None
            self._check_io(model, backend)
            self._backends[model] = backend
        workers = len(self._backends) if self.parallel_inference and len(self._backends) > 1 else 0
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"{self.name}-model") if workers else None

    def _backend_options(self) -> dict[str, Any]:
        """``backend_options`` as keyword arguments for ``load_backend``.

        Raises
        ------
        holoflow.errors.ConfigError
            If it is not a mapping by option name, or names an option that is an InferenceOp
            parameter of its own (``is_engine_path``, ``enable_cuda_graphs``).
        """
        given = self.backend_options or {}
        if not isinstance(given, Mapping) or not all(isinstance(k, str) for k in given):
            raise ConfigError(
                f"{self._label()}: backend_options must map option names to values, got {given!r}"
            )
        own = sorted(set(given) & {"is_engine_path", "cuda_graphs"})
        if own:
            raise ConfigError(
                f"{self._label()}: backend_options {own} are InferenceOp parameters: set "
                "is_engine_path or enable_cuda_graphs instead"
            )
        return dict(given)

    def _backend_for_trt(self, model: str, path: str) -> str:
        """``"trt"`` where TensorRT can run, else ``"onnxrt"`` for an ONNX model (warned once
        per process, ``CPUFallbackWarning``).

        Raises
        ------
        holoflow.errors.ConfigError
            If TensorRT cannot run here and the model is a TensorRT engine (``is_engine_path``
            or a ``.engine`` / ``.plan`` file), which nothing else can run.
        """
        reason = trt_unavailable_reason()
        if reason is None:
            return "trt"
        if self.is_engine_path or path.endswith(_ENGINE_SUFFIXES):
            raise ConfigError(
                f"{self._label()}: model '{model}': {path} is a TensorRT engine and {reason}; only "
                "TensorRT runs an engine: give the ONNX model instead (is_engine_path=False) to run "
                "it with ONNX Runtime, or install TensorRT on a machine with a CUDA device"
            )
        warn_once(
            "tensorrt",
            f"{self._label()}: model '{model}': backend 'trt' but {reason}, so the ONNX model runs "
            "with ONNX Runtime instead (shown once; every trt model of this process falls back the "
            "same way)",
            CPUFallbackWarning,
        )
        return "onnxrt"

    def _check_io(self, model: str, backend: Backend) -> None:
        """Raise ConfigError when the maps name a different number of tensors than the model has."""
        if backend.inputs and len(self._inputs[model]) != len(backend.inputs):
            raise ConfigError(
                f"{self._label()}: model '{model}' has {len(backend.inputs)} inputs "
                f"{[s.name for s in backend.inputs]}; pre_processor_map names {self._inputs[model]}"
            )
        if backend.outputs and len(self._outputs[model]) != len(backend.outputs):
            raise ConfigError(
                f"{self._label()}: model '{model}' has {len(backend.outputs)} outputs "
                f"{[s.name for s in backend.outputs]}; inference_map names {self._outputs[model]}"
            )

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # -- per frame ----------------------------------------------------------------------------------
    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        messages = [m for m in op_input.receive("receivers") if m is not None]
        self._frame += 1
        # The operator's stream waits (on the device) for the producers of the inputs; every model
        # runs on it, so the outputs are ready on it and go out stamped with it.
        stream = op_input.receive_cuda_stream() if cuda_available() else None
        jobs = []
        for model in self._backends:
            if self._skipped(model):
                continue
            jobs.append((model, self._gather(model, messages)))
        if self._pool is not None and len(jobs) > 1:
            results = list(self._pool.map(lambda job: self._infer_model(job[0], job[1], stream), jobs))
        else:
            results = [self._infer_model(job[0], job[1], stream) for job in jobs]
        for (model, _), outputs in zip(jobs, results, strict=True):
            self._last[model] = outputs
        emitted: dict[str, Any] = {}
        for model in self._backends:
            emitted.update(self._last.get(model, {}))
        op_output.emit(emitted, "transmitter")

    def _skipped(self, model: str) -> bool:
        active = str(self.activation_map.get(model, "1")) != "0"
        period = int(self.temporal_map.get(model, 1) or 1)
        due = (self._frame - 1) % max(period, 1) == 0
        return model in self._last and (not active or not due)

    def _gather(self, model: str, messages: list[Any]) -> list[Any]:
        backend = self._backends[model]
        state = self.state_map.get(model, {})
        fed_back = {v: k for k, v in state.items()}
        arrays = []
        for index, name in enumerate(self._inputs[model]):
            spec = backend.inputs[index] if backend.inputs else None
            if name in fed_back:
                previous = self._state.get(model, {}).get(name)
                if previous is None:
                    if spec is None or any(d <= 0 for d in spec.shape):
                        raise ConfigError(
                            f"{self._label()}: model '{model}': state input '{name}' needs a static shape"
                        )
                    previous = np.zeros(spec.shape, spec.dtype)
                arrays.append(previous)
                continue
            tensor = self._find(name, messages, model)
            arrays.append(self._fit(model, name, tensor, spec))
        return arrays

    def _find(self, name: str, messages: list[Any], model: str) -> Tensor:
        for message in messages:
            if isinstance(message, Mapping) and name in message and is_tensor_like(message[name]):
                return as_tensor(message[name])
        present = sorted(
            {k for m in messages if isinstance(m, Mapping) for k, v in m.items() if is_tensor_like(v)}
        )
        raise TensorError(
            f"{self._label()}: model '{model}' needs tensor '{name}', which no message on 'receivers' has; "
            f"tensors received: {present}"
        )

    def _fit(self, model: str, name: str, tensor: Tensor, spec: TensorSpec | None) -> Any:
        """``tensor`` as the model input ``spec`` takes it, checked once per new shape and dtype."""
        key = (model, name, tensor.shape, tensor.dtype)
        add_batch = self._fitted.get(key)
        if add_batch is None:
            add_batch = self._check_fit(model, name, tensor, spec)
            if len(self._fitted) >= _FITS_MAX:
                self._fitted.clear()
            self._fitted[key] = add_batch
        return _reshape(tensor, (1, *tensor.shape)) if add_batch else tensor

    def _check_fit(self, model: str, name: str, tensor: Tensor, spec: TensorSpec | None) -> bool:
        """Whether ``tensor`` is fed with a leading batch dimension of 1 added.

        Raises
        ------
        holoflow.errors.TensorError
            For a dtype InferenceOp does not accept or the model does not take, or (unless
            ``dynamic_input_dims``) a shape that does not fit the model's (see :func:`_fits`).
        """
        where = f"{self._label()}: model '{model}', tensor '{name}'"
        if tensor.dtype not in _ACCEPTED:
            raise TensorError(
                f"{where}: dtype {tensor.dtype} is not accepted; "
                "use float32, float16, int32, int64, int8 or uint8"
            )
        if spec is None:
            return False
        if spec.dtype != tensor.dtype:
            raise TensorError(f"{where}: the model expects {spec.dtype}, got {tensor.dtype}")
        if not self.dynamic_input_dims and not _fits(tensor.shape, spec.shape):
            raise TensorError(
                f"{where}: shape {tensor.shape} does not fit the model input {list(spec.shape)} (-1: any)"
            )
        return len(tensor.shape) + 1 == len(spec.shape)

    def _infer_model(self, model: str, arrays: list[Any], stream: int | None) -> dict[str, Any]:
        backend = self._backends[model]
        outputs = backend.infer(arrays, stream)
        names = self._outputs[model]
        if len(outputs) != len(names):
            raise TensorError(
                f"{self._label()}: model '{model}' returned {len(outputs)} outputs; "
                f"inference_map names {names}"
            )
        named = dict(zip(names, outputs, strict=True))
        state = self.state_map.get(model, {})
        if state:
            self._state[model] = {inp: named[out] for out, inp in state.items() if out in named}
        if not self.transmit_on_cuda or not cuda_available():
            named = {k: _to_host(v, stream) for k, v in named.items()}
        elif self.output_on_cuda and backend.device == "cpu":
            cupy = cupy_module()
            with external_stream(stream or 0):
                named = {k: cupy.asarray(v) for k, v in named.items()}
        return named


def _fits(shape: tuple[int, ...], model_dims: tuple[int, ...]) -> bool:
    """Whether a tensor of ``shape`` fits a model input of ``model_dims`` (-1 or 0: any size).

    Dimensions are compared in order, model dimensions <= 0 matching anything; a tensor with
    one dimension fewer than the model fits when it does with a leading 1 added (the batch
    dimension it is then fed with). Holoscan's HoloInfer compares the two lists sorted, so a
    tensor of transposed layout passes its check and fails inside the runtime with the
    runtime's own message; holoflow refuses it here, naming the model's dimensions.
    """
    candidate = shape if len(shape) == len(model_dims) else (1, *shape)
    if len(candidate) != len(model_dims):
        return False
    return all(m <= 0 or m == c for m, c in zip(model_dims, candidate, strict=True))


def _reshape(tensor: Tensor, shape: tuple[int, ...]) -> Any:
    if tensor.is_cuda:
        return device_view(tensor).reshape(shape)  # a view: no work on any stream
    return np.asarray(tensor).reshape(shape)


def _to_host(value: Any, stream: int | None) -> Any:
    tensor = as_tensor(value)
    if not tensor.is_cuda:
        return value
    return to_host(tensor, stream or 0)
