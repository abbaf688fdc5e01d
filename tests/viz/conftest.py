"""The ``draw`` fixture: every renderer behind the compositor's signature."""

from __future__ import annotations

import pytest

from holoflow.viz import GLRenderer, composite, opengl_available

_RENDERERS: dict[tuple[int, int], GLRenderer] = {}


@pytest.fixture(params=["software", "opengl"])
def draw(request):
    """The software compositor, or the OpenGL renderer with the same signature."""
    if request.param == "software":
        return composite
    if not opengl_available():
        pytest.skip("no headless OpenGL here (PyOpenGL with EGL and a driver such as Mesa)")

    def render(layers, width, height, color_lut=None, camera=None):
        if (width, height) not in _RENDERERS:
            _RENDERERS[width, height] = GLRenderer(width, height)
        return _RENDERERS[width, height].render(layers, color_lut, camera)

    return render
