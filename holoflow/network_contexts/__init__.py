"""Holoscan's ``holoscan.network_contexts``: what connects the fragments of a distributed
application over UCX.

holoflow chooses the links between fragments itself (``docs/distributed.md``): ``UcxContext``
constructs, so that code setting one runs, and changes nothing.
"""

from holoflow.network_contexts._ucx_context import UcxContext

__all__ = ["UcxContext"]
