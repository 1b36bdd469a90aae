"""Shared test set-up. Nothing here imports Qt: the domain and protocol tests also run in a
process where importing PySide6 fails (``-p support.no_qt``)."""

from support.geo import district_map  # noqa: F401  (the shared map-layers fixture)

pytest_plugins = ["support.pg_fixture"]
