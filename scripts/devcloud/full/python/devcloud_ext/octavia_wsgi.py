"""Octavia's API app for uwsgi, configured by $OCTAVIA_CONFIG_FILE (octavia-wsgi reads argv)."""
import os

from octavia.api.app import setup_app

application = setup_app(argv=["octavia-api", "--config-file", os.environ["OCTAVIA_CONFIG_FILE"]])
