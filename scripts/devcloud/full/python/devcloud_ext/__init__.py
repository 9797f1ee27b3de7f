"""Plugins the dev cloud's full profile loads into Neutron and Octavia (see ../../README.md)."""
