"""The ``sql_allowed_hosts`` trait: a host list that means what it says, from anywhere.

traitlets reads an extension's ``--Class.trait=value`` late, through the trait's
``from_string``; a stock ``List`` runs the text through ``literal_eval``, and anything
that is not a Python literal (``db.internal``, ``a,b``) became ``None``, which
``allow_none`` accepts and which meant "any host". Here every form reads as written:

- ``--ReactiveNotebook.sql_allowed_hosts=db.internal``: one host;
- the option repeated, or ``=a,b``: several;
- ``='["a", "b"]'`` (JSON or a Python list), or ``=[a,b]`` as a shell leaves it;
- ``=[]``: no host at all;
- in a config file, a list (or one string, read as above); ``None`` there is the
  default, any host.

Anything else (an empty value, ``None`` on the command line, which reads as "no hosts"
but would mean "any", a port, a space, a wildcard) is an error naming the value, and
``ReactiveNotebook`` stops the server on it rather than start with another meaning.
"""

from __future__ import annotations

import ast
import ipaddress
import json
import re
from typing import Any

from traitlets import List, TraitError, Unicode

_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*)(?:\.[A-Za-z0-9_-]+)*\.?")
_SOCKET = re.compile(r"[/@][^\s,'\"\[\]]*")
_HOW = (
    "give host names or addresses: --ReactiveNotebook.sql_allowed_hosts=db.internal "
    "(repeat the option or separate hosts with commas), a list in a config file, "
    "or [] to allow no host"
)


class HostList(List[str]):
    """A list of hosts, or ``None`` (the default) for any host."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Unicode(), default_value=None, allow_none=True, **kwargs)

    # traitlets swallows an error raised while reading a command-line value and keeps
    # the raw text (or list of texts), which would then pass for a host name: the
    # error travels as a value instead, and ``validate`` raises it.

    def from_string(self, s: str) -> Any:
        return self.from_string_list([s])

    def from_string_list(self, s_list: list[str]) -> Any:
        try:
            return [host for s in s_list for host in parse_hosts(s)]
        except TraitError as error:
            return _Unreadable(str(error))

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, _Unreadable):
            raise TraitError(value.message)
        if isinstance(value, str):
            value = parse_hosts(value)
        value = super().validate(obj, value)
        for host in value or ():
            check_host_syntax(host)
        return value


class _Unreadable:
    """A command-line value that names no hosts clearly, and why."""

    def __init__(self, message: str) -> None:
        self.message = message


def parse_hosts(text: str) -> list[str]:
    """The hosts ``text`` names (one option's value); TraitError when it names none
    clearly."""
    stripped = text.strip()
    if not stripped:
        raise TraitError(f"sql_allowed_hosts: an empty value is not a host list; {_HOW}")
    if stripped.lower() == "none":
        raise TraitError(
            f"sql_allowed_hosts: {stripped!r} could mean no hosts or any host; give [] to "
            "allow no host, or leave the option out to allow any"
        )
    if stripped.startswith("[") and stripped.endswith("]"):
        hosts = _list_literal(stripped)
    else:
        hosts = [part.strip() for part in stripped.split(",")]
    for host in hosts:
        check_host_syntax(host)
    return hosts


def check_host_syntax(host: Any) -> None:
    """A host name, an IP address (IPv6 with or without brackets) or a unix-socket
    directory (``/run/postgresql``); TraitError naming anything else."""
    if not isinstance(host, str):
        raise TraitError(f"sql_allowed_hosts: {host!r} is not a host name; {_HOW}")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return
    except ValueError:
        pass
    if _NAME.fullmatch(host) or _SOCKET.fullmatch(host):
        return
    hint = ""
    if re.fullmatch(r"[^\s:]+:\d+", host):
        hint = " (a host without its port: ports are not restricted)"
    elif "*" in host:
        hint = " (wildcards are not supported: list each host)"
    raise TraitError(f"sql_allowed_hosts: {host!r} is not a host name{hint}; {_HOW}")


def _list_literal(text: str) -> list[str]:
    """``["a", "b"]`` (JSON), ``['a', 'b']`` (Python), or ``[a,b]`` as a shell passes
    ``[a,b]`` on (no quotes); ``[::1]`` is the IPv6 address either way."""
    for read in (json.loads, ast.literal_eval):
        try:
            value = read(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [item.strip() for item in value]
        raise TraitError(f"sql_allowed_hosts: {text!r} is not a list of host names; {_HOW}")
    inner = text[1:-1].strip()
    if not inner:
        return []
    if any(quote in inner for quote in "'\""):
        raise TraitError(f"sql_allowed_hosts: cannot read {text!r} as a list; {_HOW}")
    return [part.strip() for part in inner.split(",")]
