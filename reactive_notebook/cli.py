"""The ``jupyter reactive-notebook`` command (the ``jupyter-reactive-notebook`` console
script: ``jupyter <sub>`` runs ``jupyter-<sub>`` from PATH).

Subcommands:
  mcp   bridge an MCP client that speaks only stdio to a running server's MCP endpoint
  copy  copy notebooks, files and folders between the file store and DynamoDB
  collect-orphans  delete a DynamoDB contents table's chunk items nothing refers to
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
    _add_copy(commands)
    _add_collect_orphans(commands)
    return parser


def _add_copy(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    copy = commands.add_parser(
        "copy",
        help="copy notebooks, files and folders between the file store and DynamoDB",
        description=(
            "Copy everything the server lists under SRC (notebooks, other files, folders;\n"
            "not hidden entries nor checkpoints) into DEST, which then mirrors SRC:\n"
            "SRC/a/b.ipynb lands at DEST/a/b.ipynb, byte for byte.\n\n"
            "A store is a local folder path, or dynamodb://TABLE[/FOLDER] (credentials\n"
            "from the standard AWS chain: environment, profile, instance role).\n"
            "Files that exist in DEST are skipped unless --overwrite.\n\n"
            "Exit status: 0 done, 1 some files failed (the others are copied),\n"
            "2 SRC or DEST cannot be used (nothing is written)."
        ),
        epilog=(
            "examples:\n"
            "  jupyter reactive-notebook copy notebooks dynamodb://nb-contents "
            "--region eu-west-1 --dry-run\n"
            "  jupyter reactive-notebook copy dynamodb://nb-contents/team backup "
            "--region eu-west-1 --verify"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    copy.add_argument("src", metavar="SRC", help="the tree to copy: a folder or dynamodb://...")
    copy.add_argument("dest", metavar="DEST", help="where it goes: a folder or dynamodb://...")
    copy.add_argument(
        "--dry-run", action="store_true", help="list what would be copied; write nothing"
    )
    copy.add_argument("--overwrite", action="store_true", help="replace files that exist in DEST")
    copy.add_argument(
        "--verify",
        action="store_true",
        help="read every copied file back from DEST and compare it with SRC's bytes",
    )
    _add_table_options(copy)
    copy.add_argument(
        "--create-table",
        action="store_true",
        help="create DEST's table (on-demand billing) if it does not exist",
    )


def _add_table_options(command: argparse.ArgumentParser) -> None:
    """Where the DynamoDB table is and which tree of it: as the manager's traits."""
    command.add_argument(
        "--region",
        default="",
        help="the AWS region of the table (default: $AWS_REGION, $AWS_DEFAULT_REGION, "
        "else us-east-1)",
    )
    command.add_argument(
        "--endpoint-url",
        default="",
        metavar="URL",
        help="a DynamoDB-compatible endpoint, e.g. http://127.0.0.1:5000 (moto)",
    )
    command.add_argument(
        "--partition",
        default="default",
        help="the partition key of the tree in the table (default: %(default)s), as "
        "DynamoDBContentsManager.partition",
    )
    command.add_argument(
        "--partition-depth",
        type=int,
        default=0,
        help="as DynamoDBContentsManager.partition_depth (default: %(default)s)",
    )


def _add_collect_orphans(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    collect = commands.add_parser(
        "collect-orphans",
        help="delete a DynamoDB contents table's chunk items nothing refers to",
        description=(
            "Delete the chunk items of a server's tree in a DynamoDB contents table that\n"
            "no file, checkpoint or upload refers to: what a server killed between a\n"
            "save's chunks and its head left behind. Chunks younger than --min-age-hours\n"
            "may belong to a save in progress and stay. It reads every item of the tree\n"
            "(a Query of the partition, or a Scan with --partition-depth): run it now and\n"
            "then (e.g. daily), not on a request's path.\n\n"
            "Exit status: 0 done, 2 the table cannot be used (nothing deleted)."
        ),
        epilog=(
            "example:\n"
            "  jupyter reactive-notebook collect-orphans nb-contents --region eu-west-1 "
            "--dry-run"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    collect.add_argument("table", metavar="TABLE", help="the table's name")
    collect.add_argument(
        "--min-age-hours",
        type=float,
        default=1.0,
        help="only chunks written longer ago than this (default: %(default)s)",
    )
    collect.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted; delete nothing"
    )
    _add_table_options(collect)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "mcp":
        from . import mcp_bridge

        return mcp_bridge.main(args.url, args.token_env)
    if args.command == "copy":
        from .contents import copy_tree

        return copy_tree.main(args)
    if args.command == "collect-orphans":
        from .contents import orphans_cli

        return orphans_cli.main(args)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse refuses others


if __name__ == "__main__":
    sys.exit(main())
