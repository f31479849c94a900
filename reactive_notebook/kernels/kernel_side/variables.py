"""The user's variables, listed INSIDE the kernel: its source is sent at kernel start.

Self-contained (stdlib only), nothing at module level but ``install_variable_lister``,
which attaches ``get_ipython().reactive_variables(limit, max_bytes)``. The server calls it
in a silent request (no execution count, no history, no output in any cell); it answers
with one ``reactive_variables`` iopub message parented to that request, as the runner
answers ``reactive_status``::

    {"variables": [{"name": "df", "type": "pandas.DataFrame", "shape": [3, 2],
                    "columns": 2, "repr": "   a  b\\n0 ..."}, ...],
     "total": 3, "truncated": 0}

Which names: those ``%who`` lists (not starting with ``_``, not IPython's own ``In``,
``Out``, ``exit``, ``quit``, ``get_ipython`` unless the user rebound them), without
modules; functions and classes the user defined are listed. In name order; at most
``limit`` of them and ``max_bytes`` of JSON, the rest counted in ``truncated``.

Describing a value must not run the user's expensive code where avoidable: ``shape`` is
read only when the type itself defines it (never through ``__getattr__``) and kept only
when it is a tuple of ints; ``len`` is asked only of a type with ``__len__`` and no such
shape, never of the lazy frames of libraries whose ``len`` runs a query (dask, Spark,
DuckDB relations, ...), and never by iterating. Every step is guarded: a ``__repr__`` or
``__len__`` that raises gives ``<repr failed: ...>`` or no ``len``, never an error. Once
``time_budget`` seconds have gone, the remaining variables get their type only.

``secrets`` (the notebook's connection password, which SQL cells hand this kernel anyway)
are masked in a repr before it is cut: the server scrubs every answer too, but cannot
recognise the piece of a secret a cut leaves.
"""

from typing import Any


def install_variable_lister(shell: Any, time_budget: float = 2.0) -> None:
    """Attach ``shell.reactive_variables``."""
    import contextlib
    import inspect
    import json
    import operator
    import reprlib
    import time
    import types

    kernel = shell.kernel
    max_repr = 120
    mask = "********"  # connection_strings.MASK, as the server's scrub writes it
    #: Libraries whose frames are lazy: their ``len`` (or shape) may run a whole query.
    lazy_roots = frozenset(
        {"dask", "pyspark", "ibis", "duckdb", "sqlalchemy", "vaex", "modin", "ray", "daft"}
    )
    hidden_sentinel = object()

    class _ShortRepr(reprlib.Repr):
        """reprlib's, with every secret masked before any cut (a cut through a secret
        would leave a piece no later scrub recognises)."""

        def __init__(self, secrets: list[str]) -> None:
            super().__init__()
            self.maxstring = max_repr
            self.maxother = max_repr
            self.maxlong = 60
            self.secrets = secrets

        def masked(self, text: str) -> str:
            for secret in self.secrets:
                text = text.replace(secret, mask)
            return text

        def repr_str(self, x: str, level: int) -> str:
            return str(super().repr_str(self.masked(x), level))

        def repr_instance(self, x: Any, level: int) -> str:
            try:
                text = self.masked(repr(x))
            except Exception as error:
                return _failed(error)
            if len(text) > self.maxother:
                head = (self.maxother - 3) // 2
                tail = self.maxother - 3 - head
                text = text[:head] + "..." + text[len(text) - tail :]
            return text

    def _failed(error: BaseException) -> str:
        try:
            detail = f"{type(error).__name__}: {error}"
        except Exception:
            detail = type(error).__name__
        return f"<repr failed: {detail[:max_repr]}>"

    def type_name(kind: type) -> str:
        try:
            module = str(type.__getattribute__(kind, "__module__") or "")
            name = str(type.__getattribute__(kind, "__qualname__"))
        except Exception:
            return "?"
        root = module.split(".", 1)[0]
        return name if root in ("builtins", "__main__", "") else f"{root}.{name}"

    def static(kind: type, attribute: str) -> bool:
        try:
            inspect.getattr_static(kind, attribute)
        except AttributeError:
            return False
        except Exception:
            return False
        return True

    def is_lazy(kind: type) -> bool:
        try:
            module = str(type.__getattribute__(kind, "__module__") or "")
            name = str(type.__getattribute__(kind, "__name__"))
        except Exception:
            return True
        return module.split(".", 1)[0] in lazy_roots or "Lazy" in name

    def shape_of(value: Any, kind: type) -> list[int] | None:
        if not static(kind, "shape"):
            return None
        try:
            shape = value.shape
        except Exception:
            return None
        if not isinstance(shape, tuple) or len(shape) > 32:
            return None
        try:  # ints (numpy's too); a lazy size (a dask Delayed) is not computed
            return [operator.index(size) for size in shape]
        except Exception:
            return None

    def describe(name: str, value: Any, full: bool, short: _ShortRepr) -> dict[str, Any]:
        kind = type(value)
        entry: dict[str, Any] = {"name": name, "type": type_name(kind)}
        if not full:
            entry["repr"] = "<not described: out of time>"
            return entry
        lazy = is_lazy(kind)
        shape = None if lazy else shape_of(value, kind)
        if shape is not None:
            entry["shape"] = shape
            if len(shape) == 2 and entry["type"].endswith(".DataFrame"):
                entry["columns"] = shape[1]
        elif not lazy and static(kind, "__len__"):
            with contextlib.suppress(Exception):  # a __len__ that raises: no len
                entry["len"] = len(value)
        try:
            text = short.repr(value)
        except Exception as error:
            text = _failed(error)
        text = short.masked(text)
        entry["repr"] = text if len(text) <= max_repr else text[: max_repr - 3] + "..."
        return entry

    def user_names() -> list[str]:
        namespace = shell.user_ns
        hidden = shell.user_ns_hidden
        names = []
        for name, value in list(namespace.items()):
            if not isinstance(name, str) or name.startswith("_"):
                continue
            if value is hidden.get(name, hidden_sentinel):
                continue  # IPython's own (In, Out, exit, quit, get_ipython...)
            if isinstance(value, types.ModuleType):
                continue
            names.append(name)
        return sorted(names, key=lambda name: (name.lower(), name))

    def reactive_variables(
        limit: int = 200, max_bytes: int = 48_000, secrets: tuple[str, ...] = ()
    ) -> None:
        started = time.monotonic()
        short = _ShortRepr(sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True))
        names = user_names()
        namespace = shell.user_ns
        listed: list[dict[str, Any]] = []
        used = 0
        for name in names[: max(0, limit)]:
            if name not in namespace:
                continue
            full = time.monotonic() - started < time_budget
            entry = describe(short.masked(name), namespace[name], full, short)
            size = len(json.dumps(entry)) + 2  # and the list's ", "
            if used + size > max_bytes:
                break
            used += size
            listed.append(entry)
        content = {
            "variables": listed,
            "total": len(names),
            "truncated": len(names) - len(listed),
        }
        kernel.session.send(
            kernel.iopub_socket,
            "reactive_variables",
            content,
            parent=kernel.get_parent("shell"),
            ident=b"reactive_variables",
        )

    shell.reactive_variables = reactive_variables
