"""Fragment services: registration keys, lookup by type and id, and use from operators during a
run, following Holoscan's fragment_service examples and the behaviour of Holoscan 4.6."""

from __future__ import annotations

import weakref

import pytest

from holoflow.conditions import CountCondition
from holoflow.core import (
    Application,
    DefaultFragmentService,
    DistributedAppService,
    Fragment,
    FragmentService,
    Operator,
    Resource,
    ServiceDriverEndpoint,
    ServiceWorkerEndpoint,
    Subgraph,
)
from holoflow.errors import GraphError
from holoflow.resources import UnboundedAllocator


class MyService(DefaultFragmentService):
    def __init__(self, value):
        super().__init__()
        self._value = value

    def value(self):
        return self._value


class OtherService(DefaultFragmentService):
    pass


class ValueResource(Resource):
    def __init__(self, fragment, *args, int_value=0, **kwargs):
        self.int_value = int_value
        super().__init__(fragment, *args, **kwargs)

    def value(self):
        return self.int_value


class SelfRefManager(Resource, FragmentService):
    """Holoscan's example pattern: a resource that is its own service, ``resource`` a method."""

    def __init__(self, fragment, *args, int_value=0, **kwargs):
        self.int_value = int_value
        Resource.__init__(self, fragment, *args, **kwargs)
        FragmentService.__init__(self)
        self._resource_ref = weakref.ref(self)

    def resource(self, new_resource=None):
        if new_resource is not None:
            self._resource_ref = weakref.ref(new_resource)
        return self._resource_ref()

    def value(self):
        return self.int_value


def test_a_service_registered_without_id_is_found_by_its_type(app):
    service = MyService(10)
    assert app.service(MyService) is None
    app.register_service(service)
    assert app.service(MyService) is service
    assert app.service(MyService).value() == 10


def test_lookup_by_another_type_or_id_finds_nothing(app):
    app.register_service(MyService(1))
    assert app.service(OtherService) is None
    assert app.service(DefaultFragmentService) is None  # keyed by MyService, as in Holoscan
    assert app.service(FragmentService) is None
    assert app.service(MyService, "some_id") is None


def test_registering_again_replaces_the_service(app):
    app.register_service(MyService(1))
    app.register_service(MyService(2))
    assert app.service(MyService).value() == 2


def test_an_id_keeps_services_of_one_type_apart_and_a_base_type_finds_it(app):
    app.register_service(MyService(1))
    app.register_service(MyService(3), "a")
    assert app.service(MyService).value() == 1
    assert app.service(MyService, "a").value() == 3
    assert isinstance(app.service(DefaultFragmentService, "a"), MyService)
    assert app.service(OtherService, "a") is None


def test_a_resource_registers_under_its_name_wrapped_in_a_default_service(app):
    resource = ValueResource(app, name="res", int_value=5)
    app.register_service(resource, "ignored_id")
    assert app.service(ValueResource, "res") is resource
    assert app.service(ValueResource, "ignored_id") is None
    assert app.service(ValueResource) is None  # a resource is found by its name
    wrapper = app.service(DefaultFragmentService, "res")
    assert isinstance(wrapper, DefaultFragmentService)
    assert wrapper.resource is resource
    assert wrapper.resource.value() == 5


def test_two_resources_of_one_name_cannot_both_be_registered(app):
    app.register_service(ValueResource(app, name="res", int_value=5))
    with pytest.raises(GraphError, match="a resource service called 'res' is registered already"):
        app.register_service(ValueResource(app, name="res", int_value=6))
    assert app.service(ValueResource, "res").value() == 5


def test_a_service_wrapping_a_resource_registers_under_the_resource_name(app):
    wrapped = ValueResource(app, name="wrapped", int_value=9)
    service = DefaultFragmentService(wrapped)
    app.register_service(service, "id_is_ignored")
    assert app.service(ValueResource, "wrapped") is wrapped
    assert app.service(DefaultFragmentService, "wrapped") is service


def test_a_resource_that_is_its_own_service(app):
    manager = SelfRefManager(app, name="manager", int_value=30)
    app.register_service(manager)
    assert app.service(SelfRefManager, "manager") is manager
    assert app.service(SelfRefManager, "manager").value() == 30


def test_a_built_in_resource_registers_too(app):
    allocator = UnboundedAllocator(app, name="alloc")
    app.register_service(allocator)
    assert app.service(UnboundedAllocator, "alloc") is allocator


@pytest.mark.parametrize("bad", [3, "text", object()])
def test_only_services_and_resources_register(app, bad):
    with pytest.raises(TypeError, match="a service must be a FragmentService or a Resource"):
        app.register_service(bad)


def test_service_takes_a_type(app):
    with pytest.raises(TypeError, match="service\\(\\) takes a type"):
        app.service("MyService")


def test_every_component_looks_up_its_fragment_services(app):
    app.register_service(MyService(7))
    condition = CountCondition(app, 1)
    resource = ValueResource(app, name="r")
    op = Operator(app, name="op")
    for component in (condition, resource, op, app.scheduler()):
        assert component.service(MyService).value() == 7


def test_a_fragment_falls_back_to_its_application_services(app):
    app.register_service(MyService(1))
    fragment = Fragment(app, "frag")
    assert fragment.service(MyService).value() == 1
    fragment.register_service(MyService(2))
    assert fragment.service(MyService).value() == 2
    assert app.service(MyService).value() == 1


def test_a_subgraph_registers_with_its_fragment(app):
    subgraph = Subgraph(app, "sub")
    subgraph.register_service(MyService(4))
    assert app.service(MyService).value() == 4


def test_distributed_service_interfaces_register_like_any_service(app):
    class Shared(DistributedAppService):
        pass

    service = Shared()
    assert isinstance(service, (FragmentService, ServiceDriverEndpoint, ServiceWorkerEndpoint))
    service.driver_start("127.0.0.1")
    service.worker_connect("127.0.0.1")
    service.driver_shutdown()
    service.worker_disconnect()
    app.register_service(service)
    assert app.service(Shared) is service


def test_operators_read_services_in_compute(scheduler_kind, use_scheduler):
    """Holoscan's fragment_service_basic and fragment_service_with_resource examples."""
    printed = []

    class ReadServices(Operator):
        def compute(self, op_input, op_output, context):
            printed.append(self.service(MyService).value())
            printed.append(self.service(DefaultFragmentService, "my_service").resource.value())
            printed.append(self.service(ValueResource, "my_service").value())
            printed.append(self.service(SelfRefManager, "manager").value())

    class App(Application):
        def compose(self):
            self.register_service(MyService(10))
            self.register_service(ValueResource(self, name="my_service", int_value=20))
            self.register_service(SelfRefManager(self, name="manager", int_value=30))
            self.add_operator(ReadServices(self, CountCondition(self, 2), name="op"))

    app = App([])
    use_scheduler(app)
    app.run()
    assert printed == [10, 20, 20, 30] * 2
