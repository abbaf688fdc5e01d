"""Tensor and as_tensor on the CPU: attributes, the three protocols, ownership, errors."""

from __future__ import annotations

import gc
import re
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import holoflow
from holoflow.errors import TensorError
from holoflow.tensor import DLDataTypeCode, DLDeviceType, Tensor, as_tensor
from holoflow.tensor._dlpack import exported_count


class Owner:
    """An array provider that can be weak-referenced (numpy arrays cannot)."""

    def __init__(self, array):
        self.array = array
        self.__array_interface__ = array.__array_interface__


def test_attributes_match_numpy():
    a = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    t = as_tensor(a)
    assert (t.shape, t.strides, t.ndim, t.size, t.itemsize, t.nbytes) == ((2, 3, 4), (24, 8, 2), 3, 24, 2, 48)
    assert t.dtype == np.int16
    assert t.dl_dtype == (DLDataTypeCode.DLINT, 16, 1)
    assert t.data == a.__array_interface__["data"][0]
    assert t.device == (DLDeviceType.DLCPU, 0)
    assert t.__dlpack_device__() == (1, 0)
    assert t.is_contiguous() and not t.is_cuda
    assert holoflow.as_tensor is as_tensor and holoflow.core.Tensor is Tensor


def test_non_contiguous_views_keep_their_strides():
    a = np.arange(60, dtype=np.float64).reshape(6, 10)
    view = a[1::2, ::3]
    t = as_tensor(view)
    assert t.strides == view.strides and not t.is_contiguous()
    back = np.asarray(t)
    np.testing.assert_array_equal(back, view)
    assert np.shares_memory(back, a)
    assert as_tensor(a.T).strides == a.T.strides


def test_numpy_sees_the_same_memory_without_copying():
    a = np.zeros((4, 5), np.float32)
    t = as_tensor(a)
    for view in (np.asarray(t), np.from_dlpack(t)):
        view[1, 2] = 7.0
        assert a[1, 2] == 7.0
        assert np.shares_memory(view, a)


def test_tensor_keeps_its_owner_alive():
    owner = Owner(np.arange(10))
    ref = weakref.ref(owner)
    t = as_tensor(owner)
    view = np.asarray(t)
    del owner, t
    gc.collect()
    assert ref() is not None  # the view holds the tensor, which holds the owner
    assert view[3] == 3
    del view
    gc.collect()
    assert ref() is None


def test_dlpack_capsules_both_versions_and_no_leak():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    t = as_tensor(a)
    before = exported_count()
    legacy = t.__dlpack__()
    versioned = t.__dlpack__(max_version=(1, 0))
    assert "dltensor" in repr(legacy) and "dltensor_versioned" in repr(versioned)
    imported = Tensor.from_dlpack(versioned)
    np.testing.assert_array_equal(np.asarray(imported), a)
    assert np.shares_memory(np.asarray(imported), a)
    del legacy, versioned, imported  # an unconsumed capsule frees itself too
    gc.collect()
    assert exported_count() == before


def test_from_dlpack_imports_numpy_arrays():
    a = np.linspace(0, 1, 7, dtype=np.float32)
    t = Tensor.from_dlpack(a)
    assert t.shape == (7,) and t.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(t), a)
    with pytest.raises(TypeError, match="from_dlpack: int has no __dlpack__ method"):
        Tensor.from_dlpack(3)


def test_read_only_arrays():
    a = np.arange(4)
    a.flags.writeable = False
    t = as_tensor(a)
    assert np.asarray(t).flags.writeable is False
    with pytest.raises(BufferError, match="read-only tensor can only be exported as a versioned"):
        t.__dlpack__()
    assert Tensor.from_dlpack(t.__dlpack__(max_version=(1, 0))).__array_interface__["data"][1] is True


def test_copy_and_device_arguments():
    a = np.arange(5)
    t = as_tensor(a)
    copied = np.from_dlpack(t, copy=True)
    copied[0] = 99
    assert a[0] == 0
    assert np.from_dlpack(t, device="cpu")[4] == 4
    with pytest.raises(BufferError, match="copy=False"):
        t.__dlpack__(dl_device=(2, 0), copy=False)


def test_host_tensor_has_no_cuda_interface():
    t = as_tensor(np.zeros(3))
    assert not hasattr(t, "__cuda_array_interface__")
    assert hasattr(t, "__array_interface__")


def test_non_arrays_are_rejected_naming_the_protocols():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "as_tensor: dict is not an array; it has none of __cuda_array_interface__, __array_interface__, "
            "__dlpack__ or the buffer protocol"
        ),
    ):
        as_tensor({"a": 1})


def test_unsupported_dtypes():
    with pytest.raises(TensorError, match="dtype object has no DLPack equivalent"):
        as_tensor(np.array([object()]))
    with pytest.raises(TensorError, match="has no DLPack equivalent"):
        as_tensor(np.array(["text"]))


def test_bool_complex_and_half():
    for dtype in (np.bool_, np.complex64, np.float16, np.uint64):
        a = np.ones(3, dtype=dtype)
        back = np.from_dlpack(as_tensor(a))
        assert back.dtype == dtype
        np.testing.assert_array_equal(back, a)


def test_buffer_protocol_objects():
    raw = bytearray(b"abcdef")
    t = as_tensor(memoryview(raw))
    assert t.shape == (6,) and t.dtype == np.uint8
    np.asarray(t)[0] = ord("z")
    assert raw[0] == ord("z")


def test_zero_dim_and_empty():
    scalar = as_tensor(np.array(3.5))
    assert scalar.shape == () and np.asarray(scalar) == 3.5
    empty = as_tensor(np.zeros((0, 4), np.float32))
    assert empty.size == 0 and np.from_dlpack(empty).shape == (0, 4)


DTYPES = st.sampled_from(
    [np.int8, np.uint16, np.int32, np.int64, np.float32, np.float64, np.complex128, np.bool_]
)


@given(
    hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, max_side=6)),
    st.data(),
)
def test_round_trips_preserve_values_and_memory(array, data):
    if array.ndim:
        slices = tuple(
            slice(None, None, data.draw(st.sampled_from([1, 2, -1]), label=f"step{i}"))
            for i in range(array.ndim)
        )
        array = array[slices]
    t = as_tensor(array)
    assert t.shape == array.shape and t.dtype == array.dtype
    # a dimension of extent 1 may carry any stride; the others must match
    assert [s for s, n in zip(t.strides, array.shape) if n > 1] == [
        s for s, n in zip(array.strides, array.shape) if n > 1
    ]
    for back in (
        np.asarray(t),
        np.from_dlpack(t),
        np.asarray(Tensor.from_dlpack(t.__dlpack__(max_version=(1, 0)))),
    ):
        np.testing.assert_array_equal(back, array)
        if array.size:
            assert np.shares_memory(back, array)
