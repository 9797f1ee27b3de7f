"""ML2 mechanism driver that binds every port, on any host, with no data plane.

Nova (fake virt driver) fails a server whose port stays `binding_failed`; a real driver
(OVS, linuxbridge) binds only where its agent reports. This one binds the first segment
it is offered, so Nova's servers go ACTIVE and ports go ACTIVE, and nothing is wired.
"""
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api

VIF_TYPE = "ovs"  # what Nova would see from Open vSwitch; the fake driver ignores it


class BindAllMechanismDriver(api.MechanismDriver):
    def initialize(self):
        pass

    @property
    def connectivity(self):
        return 'l2'

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], VIF_TYPE,
                                {"port_filter": True, "ovs_hybrid_plug": False},
                                status=constants.PORT_STATUS_ACTIVE)
            return

    def check_vlan_transparency(self, context):
        return True
