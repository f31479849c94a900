"""The ``jupyter reactive-notebook`` command (the ``jupyter-reactive-notebook`` console
script: ``jupyter <sub>`` runs ``jupyter-<sub>`` from PATH).

Subcommands:
  mcp   bridge an MCP client that speaks only stdio to a running server's MCP endpoint
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__

PROG = "jupyter reactive-notebook"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Reactive notebooks for Jupyter: command-line tools."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    mcp = commands.add_parser(
        "mcp",
        help="serve MCP on stdin/stdout, forwarded to a running server's MCP endpoint",
        description=(
            "An MCP server on stdin/stdout for clients that only launch local commands "
            "(Claude Desktop, ...). Every request goes to the MCP endpoint of a running "
            "Jupyter server with reactive-notebook, as the user its token names. "
            "Messages go to stderr; stdout carries only the protocol."
        ),
        epilog=(
            "example: JUPYTER_TOKEN=... jupyter reactive-notebook mcp --url http://127.0.0.1:8888/"
        ),
    )
    mcp.add_argument(
        "--url",
        required=True,
        help=(
            "the Jupyter server's base URL (http://127.0.0.1:8888/, or under JupyterHub "
            "https://hub.example.org/user/NAME/), to which reactive/mcp is appended; a URL "
            "already ending in /reactive/mcp is used as it is"
        ),
    )
    mcp.add_argument(
        "--token-env",
        default="JUPYTER_TOKEN",
        metavar="VAR",
        help=(
            "the environment variable holding the Jupyter token, sent as "
            "'Authorization: token <t>' (default: %(default)s). The token is never "
            "taken from the command line, where every user of the machine can read it"
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "mcp":
        from . import mcp_bridge

        return mcp_bridge.main(args.url, args.token_env)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse refuses others


if __name__ == "__main__":
    sys.exit(main())
