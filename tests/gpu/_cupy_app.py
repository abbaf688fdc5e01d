"""A distributed application passing CuPy arrays between two fragments, run as a script.

``python _cupy_app.py --sizes-mib 1,8,64 --count N [--mode check|bench] --out FILE
[Holoscan's --driver/--worker/--fragments/--address options]``

Fragment ``tx`` emits ``(seq, array)`` tuples: in ``check`` mode a fresh ``uint32`` pattern
that depends on ``seq`` (cycling through the sizes; every fourth message carries a second,
Fortran-ordered array), in ``bench`` mode one of two arrays made up front. Fragment ``rx``
checks each message on its device (``check``: type, device, every value; ``bench``: the first
and the last message) and records arrival times; at ``stop`` it writes JSON to ``--out``:
the messages, and this process's CUDA IPC counts. ``tx`` writes its counts to
``--out`` + ``.tx.json``.

Tests and ``benchmarks/distributed_gpu.py`` run it; ``HOLOFLOW_CUDA_IPC`` and
``HOLOFLOW_EDGE_WINDOW`` come from the environment.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import cupy

from holoflow.conditions import CountCondition
from holoflow.core import Application, Fragment, Operator
from holoflow.distributed._cuda_ipc import stats

MIB = 1 << 20


def pattern(nbytes: int, seq: int) -> cupy.ndarray:
    """``nbytes`` of ``uint32`` values that depend on ``seq`` (made on the current device)."""
    values = cupy.arange(nbytes // 4, dtype=cupy.uint32) * cupy.uint32(2654435761)
    return values ^ cupy.uint32((seq * 40503 + 7) & 0xFFFFFFFF)


def fortran(seq: int) -> cupy.ndarray:
    """A 1 MiB Fortran-ordered ``float32`` array that depends on ``seq``."""
    values = cupy.arange(512 * 512, dtype=cupy.float32).reshape(512, 512) + cupy.float32(seq)
    return cupy.asfortranarray(values)


class Tx(Operator):
    def __init__(self, fragment, *args, settings=None, **kwargs):
        self.settings = settings
        self.seq = 0
        self.sizes = [int(float(part) * MIB) for part in settings.sizes_mib.split(",")]
        self.fixed = {}
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        seq, self.seq = self.seq, self.seq + 1
        size = self.sizes[seq % len(self.sizes)]
        if self.settings.mode == "bench":
            key = (size, seq % 2)
            if key not in self.fixed:
                self.fixed[key] = pattern(size, seq % 2)
                cupy.cuda.get_current_stream().synchronize()
            op_output.emit((seq, self.fixed[key]), "out")
        elif seq % 4 == 3:
            op_output.emit((seq, pattern(size, seq), fortran(seq)), "out")
        else:
            op_output.emit((seq, pattern(size, seq)), "out")

    def stop(self):
        with open(self.settings.out + ".tx.json", "w") as file:
            json.dump({"ipc": stats()}, file)


class Rx(Operator):
    def __init__(self, fragment, *args, settings=None, **kwargs):
        self.settings = settings
        self.records = []
        self.sizes = [int(float(part) * MIB) for part in settings.sizes_mib.split(",")]
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        arrived = time.perf_counter()
        seq, array = message[0], message[1]
        size = self.sizes[seq % len(self.sizes)]
        record = {
            "seq": seq,
            "t": arrived,
            "nbytes": int(array.nbytes),
            "type": f"{type(array).__module__}.{type(array).__name__}",
            "device": int(array.device.id) if isinstance(array, cupy.ndarray) else -1,
            "current_device": int(cupy.cuda.runtime.getDevice()),
        }
        if self.settings.mode == "bench":
            if seq in (0, self.settings.count - 1):
                record["equal"] = bool(cupy.array_equal(array, pattern(size, seq % 2)))
        else:
            record["equal"] = bool(cupy.array_equal(array, pattern(size, seq)))
            if len(message) == 3:
                second = message[2]
                record["fortran_equal"] = bool(cupy.array_equal(second, fortran(seq)))
                record["fortran_order"] = bool(second.flags.f_contiguous)
                record["fortran_type"] = type(second).__name__
        self.records.append(record)

    def stop(self):
        with open(self.settings.out, "w") as file:
            json.dump({"records": self.records, "ipc": stats()}, file)


class TxFragment(Fragment):
    def __init__(self, app, name, settings):
        self.settings = settings
        super().__init__(app, name=name)

    def compose(self):
        self.add_operator(
            Tx(self, CountCondition(self, self.settings.count), settings=self.settings, name="tx")
        )


class RxFragment(Fragment):
    def __init__(self, app, name, settings):
        self.settings = settings
        super().__init__(app, name=name)

    def compose(self):
        self.add_operator(Rx(self, settings=self.settings, name="rx"))


class CupyApp(Application):
    def __init__(self, settings, *args, **kwargs):
        self.settings = settings
        super().__init__(*args, **kwargs)

    def compose(self):
        tx = TxFragment(self, "tx", self.settings)
        rx = RxFragment(self, "rx", self.settings)
        self.add_flow(tx, rx, {("tx.out", "rx.in")})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes-mib", default="1,8,64")
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--mode", choices=("check", "bench"), default="check")
    parser.add_argument("--out", required=True)
    settings, rest = parser.parse_known_args()
    app = CupyApp(settings, argv=[sys.executable, sys.argv[0], *rest])
    app.run()


if __name__ == "__main__":
    main()
