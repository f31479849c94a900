"""Code that runs inside the kernel, sent as source text at kernel start (never imported there).

Each module is self-contained (stdlib, IPython, lazily imported pandas/polars) and keeps
the user namespace clean. The server also imports ``tables`` for its ``json_safe`` rules,
``connection_strings`` to mask secrets and ``host_policy`` to normalise allowed hosts.
"""

from importlib import resources


def kernel_source(module: str) -> str:
    """The source text of ``kernel_side/<module>.py``."""
    return resources.files(__name__).joinpath(f"{module}.py").read_text("utf-8")


def table_formatter_code(max_rows: int = 1000) -> str:
    """Code that installs the table formatter in the kernel it is executed in.

    ``install_table_formatter`` is deleted afterwards: only ``_reactive_`` names remain.
    """
    return (
        kernel_source("tables")
        + f"\n\ninstall_table_formatter(get_ipython(), {int(max_rows)})\n"
        + "del install_table_formatter\n"
    )


def module_code(module: str, variable: str) -> str:
    """Code that runs ``kernel_side/<module>.py`` in a module object of its own (not in
    the user namespace) and binds that module to ``variable``."""
    source = kernel_source(module)
    return (
        f"{variable} = __import__('types').ModuleType({'reactive_notebook.' + module!r})\n"
        f"exec(compile({source!r}, {'<reactive ' + module + '>'!r}, 'exec'), "
        f"{variable}.__dict__)\n"
    )


def private_code(source: str) -> str:
    """Code that runs ``source`` in a namespace of its own, not the user namespace, so the
    kernel's namespace stays a stock kernel's (``get_ipython`` is handed to it)."""
    return (
        f"exec(compile({source!r}, '<reactive-notebook>', 'exec'), "
        "{'__name__': 'reactive_notebook_kernel', 'get_ipython': get_ipython})\n"
    )


def runner_source(max_table_rows: int = 1000) -> str:
    """The kernel-side code installed at kernel start: runner, table and chart formatters,
    SQL runner, variable lister.

    It runs in a namespace of its own (``private_code``): the user namespace of the
    kernel stays a stock kernel's.
    """
    runner = kernel_source("history") + "\n" + kernel_source("runner")
    install = (
        "install_reactive_runner(get_ipython(), history_batching)\n"
        "del install_reactive_runner, history_batching, Any\n"
    )
    charts = kernel_source("charts")
    install_charts = "install_chart_formatters(get_ipython())\ndel install_chart_formatters\n"
    tables = table_formatter_code(max_table_rows)
    sql = kernel_source("sql")
    install_sql = (
        module_code("connection_strings", "_reactive_strings")
        + module_code("host_policy", "_reactive_hosts")
        + "install_sql_runner(get_ipython(), _reactive_strings, _reactive_hosts)\n"
        + "del install_sql_runner, Any, _reactive_strings, _reactive_hosts\n"
    )
    variables = kernel_source("variables")
    install_variables = "install_variable_lister(get_ipython())\ndel install_variable_lister, Any\n"
    parts = (runner, install, tables, charts, install_charts, sql, install_sql)
    return private_code("\n".join((*parts, variables, install_variables)))
