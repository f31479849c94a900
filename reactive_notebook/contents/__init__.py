"""Storage: notebooks as plain nbformat 4.5 ``.ipynb`` files, through Jupyter's contents API.

- ``ipynb``: the pure mapping between :class:`~reactive_notebook.models.Notebook` and
  nbformat, so stock JupyterLab opens what we write and we open what it writes.
- ``atomic``: a contents manager whose saves are crash-safe (temp file, fsync, replace).
- ``store``: :class:`NotebookStore`, the one place the service loads and saves notebooks,
  over whatever contents manager the server runs, with ids stable across renames.
"""
