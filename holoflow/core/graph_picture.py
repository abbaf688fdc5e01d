"""Pictures of graphs: an application or fragment as Graphviz DOT text, and its drawing.

``app.to_dot()`` (:meth:`holoflow.core.Fragment.to_dot`) returns the text; :func:`render`
writes it as SVG or PNG, chosen by the file's suffix, where Graphviz is installed; in Jupyter an
application shows itself as that picture. Holoscan has no such thing. See
``docs/graph_pictures.md``.
"""

from holoflow.core._graph_dot import graph_dot
from holoflow.core._graph_render import FORMATS, dot_to_bytes, graphviz_available, render

__all__ = ["FORMATS", "dot_to_bytes", "graph_dot", "graphviz_available", "render"]
