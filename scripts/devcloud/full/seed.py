"""What a DevStack user finds on the full profile (run by devcloud.sh; creates only what is
missing): image `ubuntu-noble`, flavors m1.small / m1.medium, keypair `default` for demo
and demo2 (key in $DIR/ssh), the external flat network `public` with a subnet for
floating IPs.
"""
import os
import sys

import openstack

E = os.environ
DIR = E["DEVCLOUD_DIR"]

admin = openstack.connect(cloud="devcloud-admin")

for name, ram, disk, vcpus in (("m1.small", 2048, 20, 1), ("m1.medium", 4096, 40, 2)):
    if not admin.compute.find_flavor(name, ignore_missing=True):
        admin.compute.create_flavor(name=name, ram=ram, disk=disk, vcpus=vcpus, is_public=True)

if not admin.image.find_image("ubuntu-noble", ignore_missing=True):
    # a tiny raw disk: nothing boots it (Nova's fake virt driver), but Nova and Heat see a
    # real, public, active image
    path = os.path.join(DIR, "glance", "ubuntu-noble.img")
    with open(path, "wb") as f:
        f.write(b"\0" * 1024 * 1024)
    admin.image.create_image(name="ubuntu-noble", filename=path, disk_format="raw",
                             container_format="bare", visibility="public",
                             os_distro="ubuntu", os_version="24.04", wait=True)

pub = open(os.path.join(DIR, "ssh", "id_ed25519.pub")).read().strip()
for cloud in ("devcloud-demo", "devcloud-demo2"):
    c = openstack.connect(cloud=cloud)
    if not c.compute.find_keypair("default", ignore_missing=True):
        c.compute.create_keypair(name="default", public_key=pub)

net = admin.network.find_network("public", ignore_missing=True)
if not net:
    net = admin.network.create_network(
        name="public", is_router_external=True, is_shared=False,
        provider_network_type="flat", provider_physical_network="public")
if not list(admin.network.subnets(network_id=net.id)):
    admin.network.create_subnet(
        name="public-subnet", network_id=net.id, ip_version=4, cidr="172.24.4.0/24",
        gateway_ip="172.24.4.1", is_dhcp_enabled=False,
        allocation_pools=[{"start": "172.24.4.2", "end": "172.24.4.254"}])
print("seeded", file=sys.stderr)
