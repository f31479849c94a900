"""The kernel side of the engine: one Jupyter kernel per open notebook, plan runs, outputs."""
