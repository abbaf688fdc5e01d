"""Holoscan's ``holoscan.network_contexts``: what connects the fragments of a distributed
application over UCX.

holoflow runs an application as one fragment in one process, so there are no fragments to
connect. ``UcxContext`` imports so that code naming it loads, and says so when constructed.
"""

from holoflow.network_contexts._ucx_context import UcxContext

__all__ = ["UcxContext"]
