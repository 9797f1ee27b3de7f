"""Octavia network driver: a real Neutron VIP port, everything else noop.

With network_noop_driver the VIP port id is a random UUID Neutron does not know, so an
OS::Neutron::FloatingIP on a load balancer's vip_port_id fails. This driver lets the stock
allowed-address-pairs driver allocate the VIP port (on LB create, in the API) and delete it
(on LB delete, in the worker), and look networks, subnets and ports up in Neutron; the
amphora side (plugging VIPs and networks into amphorae that do not exist) stays noop.
On LB delete, deallocate_vip deletes the VIP port only when its device_owner is Octavia's
(a port the user passed as vip_port_id stays), as on a real cloud.
"""
from octavia.network import base
from octavia.network.drivers.neutron import allowed_address_pairs
from octavia.network.drivers.noop_driver import driver as noop


class RealVipNoopNetworkDriver(noop.NoopNetworkDriver):
    def __init__(self):
        super().__init__()
        self._neutron = None

    @property
    def neutron(self):
        # built on first use: its constructor talks to Neutron (extension checks)
        if self._neutron is None:
            self._neutron = allowed_address_pairs.AllowedAddressPairsDriver()
        return self._neutron

    def allocate_vip(self, loadbalancer):
        return self.neutron.allocate_vip(loadbalancer)

    def deallocate_vip(self, vip):
        return self.neutron.deallocate_vip(vip)

    # Real Neutron objects for what users name (the API validates the VIP network, subnet
    # and port with these); the noop ones for what only the noop amphorae have (the
    # worker's member and network flows look up networks "plugged" into them).
    def get_network(self, network_id, context=None):
        try:
            return self.neutron.get_network(network_id, context=context)
        except base.NetworkNotFound:
            return super().get_network(network_id, context=context)

    def get_subnet(self, subnet_id, context=None):
        try:
            return self.neutron.get_subnet(subnet_id, context=context)
        except base.SubnetNotFound:
            return super().get_subnet(subnet_id, context=context)

    def get_port(self, port_id, context=None):
        try:
            return self.neutron.get_port(port_id, context=context)
        except base.PortNotFound:
            return super().get_port(port_id, context=context)
