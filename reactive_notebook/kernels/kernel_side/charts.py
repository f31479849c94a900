"""Altair charts as Vega-Lite JSON, executed INSIDE the kernel (sent as source text).

Altair's default renderer emits only ``text/html`` that loads Vega from a CDN; the
notebook (and any API client) wants the chart's Vega-Lite spec under its own mimetype,
which JupyterLab and our UI render natively. Formatters are registered by type name, so
altair is never imported here: charts get the spec once the user's code imports altair.
Only ``install_chart_formatters`` is defined at module level, and it is deleted after use.
"""


def install_chart_formatters(shell):  # type: ignore[no-untyped-def]
    """Register Vega-Lite v5 and v6 formatters for Altair charts (idempotent)."""
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    def spec(chart):  # type: ignore[no-untyped-def]
        try:
            return chart.to_dict()
        except Exception:
            return None  # an invalid chart: Altair's own HTML shows the error

    display_formatter = shell.display_formatter
    for version in ("v5", "v6"):
        mime = f"application/vnd.vegalite.{version}+json"

        class VegaLiteFormatter(BaseFormatter):
            format_type = Unicode(mime)
            _return_type = (dict,)
            print_method = ObjectName(f"_repr_vegalite_{version}_")

        formatter = VegaLiteFormatter(parent=display_formatter)
        formatter.for_type_by_name(  # type: ignore[no-untyped-call]
            f"altair.vegalite.{version}.api", "TopLevelMixin", spec
        )
        display_formatter.formatters[mime] = formatter
