"""Altair charts as Vega-Lite JSON, executed INSIDE the kernel (sent as source text).

Altair's default renderer emits only ``text/html`` that loads Vega from a CDN; the
notebook (and any API client) wants the chart's Vega-Lite spec under its own mimetype,
which JupyterLab and our UI render natively. The spec is added by a type printer on
IPython's own mimebundle formatter (next to what the chart's ``_repr_mimebundle_``
gives), so the kernel's ``display_formatter.formatters`` stay a stock kernel's. Printers
are registered by type name, so altair is never imported here: charts get the spec once
the user's code imports altair. Only ``install_chart_formatters`` is defined at module
level, and it is deleted after use.
"""


def install_chart_formatters(shell):  # type: ignore[no-untyped-def]
    """Add the Vega-Lite v5 and v6 specs of Altair charts to their bundles (idempotent)."""
    from IPython.utils.dir2 import get_real_method

    def printer_for(mime):  # type: ignore[no-untyped-def]
        def printer(chart):  # type: ignore[no-untyped-def]
            data, metadata = {}, {}
            method = get_real_method(chart, "_repr_mimebundle_")
            if method is not None:
                own = method(include=None, exclude=None)
                if isinstance(own, tuple) and len(own) == 2:
                    data, metadata = dict(own[0] or {}), dict(own[1] or {})
                elif isinstance(own, dict):
                    data = dict(own)
            try:
                spec = chart.to_dict()
            except Exception:
                spec = None  # an invalid chart: Altair's own HTML shows the error
            if spec is not None:
                data[mime] = spec
            return data, metadata

        return printer

    formatter = shell.display_formatter.mimebundle_formatter
    for version in ("v5", "v6"):
        mime = f"application/vnd.vegalite.{version}+json"
        formatter.for_type_by_name(
            f"altair.vegalite.{version}.api",
            "TopLevelMixin",
            printer_for(mime),  # type: ignore[no-untyped-call]
        )
