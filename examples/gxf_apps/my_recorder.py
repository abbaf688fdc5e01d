"""The custom recorder of Holoscan's "GXF by example" guide, as a Python codelet.

``MyRecorder`` writes each message it receives as one GXF entity to
``<out_directory>/<basename>.gxf_entities`` and its index record to ``.gxf_index``, with
holoflow's GXF writer. Load it with ``--extension``::

    holoflow run examples/gxf_apps/replayer_recorder.yaml --extension my_recorder

(with ``examples/gxf_apps`` on ``PYTHONPATH``), or ``load_app(path, extensions=["my_recorder"])``.
"""

from __future__ import annotations

from holoflow.gxf import Codelet, GXFWriter, Registrar


class MyRecorder(Codelet):
    """Record what ``receiver`` delivers; ``basename`` defaults to the receiver's name."""

    def register_interface(self, r: Registrar) -> None:
        r.receiver("receiver", "Entity receiver", "Receiver channel to log")
        r.parameter("serializer", "Entity serializer", "Serializer for the entities", kind="serializer")
        r.parameter(
            "out_directory", "Output directory path", "Directory path to store received output", type=str
        )
        r.parameter("basename", "File base name", "User specified file name without extension",
                    optional=True, type=str)  # fmt: skip
        r.parameter("flush_on_tick", "Boolean to flush on tick", "Flushes output buffer on every tick",
                    default=False)  # fmt: skip

    def start(self) -> None:
        basename = self.basename or self.receiver.name
        self.writer = GXFWriter(self.out_directory, basename)

    def tick(self) -> None:
        message = self.receiver.receive()
        self.writer.write(self.serializer.serialize(message))
        if self.flush_on_tick:
            self.writer.flush()

    def stop(self) -> None:
        self.writer.close()
