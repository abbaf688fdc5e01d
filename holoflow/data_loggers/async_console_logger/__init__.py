"""``AsyncConsoleLogger`` at Holoscan's path."""

from holoflow.data_loggers._async_console import AsyncConsoleLogger

__all__ = ["AsyncConsoleLogger"]
