"""The importing side of the raw CUDA IPC tests, run as a separate process (CUDA opens an IPC
handle only in another process than its exporter's).

Reads one JSON request per line on stdin and answers one JSON line on stdout:

- ``{"op": "import", "descriptor": {...fields, "handle": hex}, "dtype": str, "shape": [...],
  "seq": int}``: import through one :class:`IpcImporter`, compare with ``pattern(nbytes, seq)``
  of ``_cupy_app``; answers ``{"ok", "error", "type", "device", "open", "stats"}``;
- ``{"op": "probe", "nbytes": int}``: ``_mapped_size`` of a fresh allocation of ``nbytes``;
- ``{"op": "close"}``: close the importer, answer its counts, and exit.
"""

from __future__ import annotations

import json
import sys

import cupy
import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _cupy_app import pattern

from holoflow.distributed._cuda_ipc import IpcDescriptor, IpcImporter, _mapped_size, stats
from holoflow.errors import CodecError


def main() -> None:
    importer = IpcImporter()
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "import":
            fields = dict(request["descriptor"])
            fields["handle"] = bytes.fromhex(fields["handle"])
            descriptor = IpcDescriptor(**fields)
            answer = {"ok": False, "error": None, "type": "", "device": -1}
            try:
                array = importer.import_array(
                    descriptor, np.dtype(request["dtype"]), tuple(request["shape"]), 1 << 34
                )
            except CodecError as error:
                answer["error"] = str(error)
            else:
                answer["type"] = f"{type(array).__module__}.{type(array).__name__}"
                answer["device"] = int(array.device.id)
                answer["ok"] = bool(cupy.array_equal(array, pattern(descriptor.nbytes, request["seq"])))
            answer["open"] = importer.open_mappings
            answer["stats"] = stats()
        elif op == "probe":
            memory = cupy.cuda.Memory(request["nbytes"])
            answer = {"size": _mapped_size(memory.ptr)}
        else:
            importer.close()
            answer = {"stats": stats(), "open": importer.open_mappings}
        print(json.dumps(answer), flush=True)
        if op == "close":
            return


if __name__ == "__main__":
    main()
