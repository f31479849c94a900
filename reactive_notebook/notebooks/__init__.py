"""The notebook service: the one place that changes notebooks and runs them."""
