"""Shared test setup: pytest-jupyter's server fixtures (a real ``jupyter server``)."""

pytest_plugins = ["pytest_jupyter.jupyter_server"]
