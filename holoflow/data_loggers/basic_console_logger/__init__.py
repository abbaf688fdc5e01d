"""``BasicConsoleLogger``, ``GXFConsoleLogger`` and ``SimpleTextSerializer`` at Holoscan's path."""

from holoflow.data_loggers._console import BasicConsoleLogger, GXFConsoleLogger
from holoflow.data_loggers._serializer import SimpleTextSerializer

__all__ = ["BasicConsoleLogger", "GXFConsoleLogger", "SimpleTextSerializer"]
