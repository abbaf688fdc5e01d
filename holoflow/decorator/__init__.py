"""Operators from plain functions and classes: ``create_op``, ``Input`` and ``Output``, as
``holoscan.decorator`` has them.

::

    @create_op(inputs="frame", outputs="out")
    def scale(frame, *, factor=2.0):
        return frame * factor

    op = scale(app, name="scale", factor=0.5)

Each input port fills a function argument (a dict of tensors can fill several, through
``Input(arg_map={...})``); the return value goes out on the output ports (a tuple over several
ports, a dict of tensors split by ``Output(tensor_names=...)``); a generator function emits one
value per compute and stops its operator when exhausted. Received tensors reach the function as
numpy or CuPy arrays unless ``cast_tensors=False``; CuPy is imported only when a CUDA tensor
arrives. ``docs/decorator.md`` has the details.
"""

from holoflow.decorator._create_op import create_op
from holoflow.decorator._ports import Input, Output

__all__ = ["Input", "Output", "create_op"]
