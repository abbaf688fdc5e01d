"""Fragment services: objects registered with a fragment that its components look up by type.

``fragment.register_service(service, id="")`` registers a :class:`FragmentService` or a
:class:`~holoflow.core.Resource`; ``fragment.service(type, id="")`` (or ``op.service(...)``
inside any component of the fragment) finds it again. The registry follows Holoscan's keys:

* a resource is registered under its name (``id`` is ignored), wrapped in a
  :class:`DefaultFragmentService`; a service that holds a resource, or is a resource itself, is
  registered under that resource's name;
* any other service is registered under ``id``, or, when ``id`` is empty, under its type's
  qualified name (so ``service(MyService)`` finds ``register_service(MyService(...))``).

A lookup returns the registered object when it is an instance of the requested type; asking for
a resource type unwraps a service that holds one. It returns ``None`` when nothing matches.
Registering a plain service again under the same key replaces it; two resources of one name
cannot both be registered.

``ServiceDriverEndpoint``, ``ServiceWorkerEndpoint`` and ``DistributedAppService`` are the
interfaces of services in distributed applications; holoflow runs every application as one
fragment, so their hooks are never called and the classes exist for code that subclasses them.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from holoflow.core._resource import Resource
from holoflow.errors import GraphError

__all__ = [
    "DefaultFragmentService",
    "DistributedAppService",
    "FragmentService",
    "ServiceDriverEndpoint",
    "ServiceRegistry",
    "ServiceWorkerEndpoint",
]

T = TypeVar("T")


class FragmentService:
    """Base class of fragment services: anything operators of a fragment share.

    Subclass it (or :class:`DefaultFragmentService`) and register an instance with
    ``fragment.register_service(service)``. :attr:`resource` is the resource the service stands
    for, if any.
    """

    def __init__(self) -> None:
        if "_holoflow_service_resource" not in vars(self):
            self._holoflow_service_resource: Resource | None = None

    @property
    def resource(self) -> Resource | None:
        """The resource this service stands for, or ``None``."""
        return vars(self).get("_holoflow_service_resource")

    @resource.setter
    def resource(self, value: Resource | None) -> None:
        if value is not None and not isinstance(value, Resource):
            raise TypeError(f"a service's resource must be a Resource, not {type(value).__name__}")
        self._holoflow_service_resource = value


class DefaultFragmentService(FragmentService):
    """A fragment service, optionally standing for a resource (what registering a bare resource
    makes).

    Parameters
    ----------
    resource : Resource, optional
        The resource the service stands for; it is then registered under the resource's name.
    """

    def __init__(self, resource: Resource | None = None) -> None:
        super().__init__()
        if resource is not None:
            self.resource = resource

    def __repr__(self) -> str:
        resource = self.resource
        inner = f" for {resource!r}" if resource is not None else ""
        return f"<{type(self).__name__}{inner}>"


class ServiceDriverEndpoint:
    """The driver side of a service in a distributed application: :meth:`driver_start` and
    :meth:`driver_shutdown` (holoflow runs one process, so it never calls them)."""

    def driver_start(self, driver_ip: str) -> None:
        """Called on the driver when the distributed application starts. Default: nothing."""

    def driver_shutdown(self) -> None:
        """Called on the driver when the distributed application ends. Default: nothing."""


class ServiceWorkerEndpoint:
    """The worker side of a service in a distributed application: :meth:`worker_connect` and
    :meth:`worker_disconnect` (holoflow runs one process, so it never calls them)."""

    def worker_connect(self, driver_ip: str) -> None:
        """Called on a worker when it connects to the driver. Default: nothing."""

    def worker_disconnect(self) -> None:
        """Called on a worker when it disconnects. Default: nothing."""


class DistributedAppService(FragmentService, ServiceDriverEndpoint, ServiceWorkerEndpoint):
    """A fragment service with both distributed endpoints; registers like any service."""


def _resource_of(service: Any) -> Resource | None:
    """The resource a service stands for: itself when it is a resource, else its ``resource``
    (an attribute, or a method as Holoscan's Python services define it)."""
    if isinstance(service, Resource):
        return service
    resource = getattr(service, "resource", None)
    if callable(resource) and not isinstance(resource, Resource):
        resource = resource()
    return resource if isinstance(resource, Resource) else None


def _type_key(kind: type) -> str:
    return f"__py__{kind.__module__}.{kind.__qualname__}"


class ServiceRegistry:
    """One fragment's services by key (see the module docstring). Thread-safe."""

    __slots__ = ("_lock", "_services")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services: dict[str, Any] = {}

    def register(self, service: Any, service_id: str = "", where: str = "register_service") -> None:
        """Register ``service`` (a ``FragmentService`` or ``Resource``); ``where`` starts error
        messages.

        Raises
        ------
        TypeError
            If ``service`` is neither, or ``service_id`` is not a str.
        holoflow.errors.GraphError
            If a resource of the same name is registered already.
        """
        if not isinstance(service_id, str):
            raise TypeError(f"{where}: id must be a str, not {type(service_id).__name__}")
        if not isinstance(service, (FragmentService, Resource)):
            raise TypeError(
                f"{where}: a service must be a FragmentService or a Resource, not {type(service).__name__}"
            )
        resource = _resource_of(service)
        if resource is None:
            key, entry = service_id or _type_key(type(service)), service
        else:
            key = resource.name
            entry = service if isinstance(service, FragmentService) else DefaultFragmentService(resource)
        with self._lock:
            earlier = self._services.get(key)
            if resource is not None and earlier is not None and _resource_of(earlier) is not None:
                raise GraphError(
                    f"{where}: a resource service called '{key}' is registered already; "
                    "give each resource registered as a service a unique name"
                )
            self._services[key] = entry

    def find(self, service_type: type[T], service_id: str = "") -> T | None:
        """The service registered under ``service_id`` (or, when empty, under ``service_type``'s
        own key) if it is a ``service_type``; for a resource type, the resource a matching
        service stands for. ``None`` when there is none."""
        if not isinstance(service_type, type):
            raise TypeError(f"service() takes a type, not {type(service_type).__name__}")
        with self._lock:
            entry = self._services.get(service_id or _type_key(service_type))
        if entry is None:
            return None
        if isinstance(entry, service_type):
            return entry
        if issubclass(service_type, Resource):
            resource = _resource_of(entry)
            if isinstance(resource, service_type):
                return resource
        return None

    def clear(self) -> None:
        """Forget every service."""
        with self._lock:
            self._services.clear()
