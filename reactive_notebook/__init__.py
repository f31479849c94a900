"""reactive-notebook: reactive notebooks as a Jupyter server extension."""

__version__ = "0.1.0"
