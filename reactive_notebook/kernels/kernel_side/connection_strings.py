"""Where the secrets of a connection string are, read the way its drivers read it.

One reading serves three places: the API shows connection strings with their secrets
masked (``notebooks/connection.py``), kernels do not inherit environment variables whose
value carries a credential (``kernels/environment.py``), and SQL errors in the kernel
hide the same secrets (``kernel_side/sql.py``). The server imports this module; kernels
get its source at start (stdlib only, nothing at import time but definitions).

Three forms are parsed:

- URLs, ``scheme://[user[:password]@]hosts[/database][?query]``: the password and every
  query parameter whose name looks secret (``password``, ``sslpassword``, ``pwd``,
  ``motherduck_token``, ``credentials_base64``, ...) or whose value is itself a
  connection string with a secret (``odbc_connect=...PWD%3D...``). Only URLs every
  parser reads alike are accepted: an ``@``, ``#`` or space anywhere but between the
  user information and the host, or a scheme with one slash (``postgresql:/``), makes
  the string unparseable.
- libpq keyword/value strings (``host=h password='a b'``), with libpq's quoting rules.
- ODBC strings (``Driver={...};Server=h;PWD={x;y};``), with ODBC's braces.

A string that cannot be parsed is all secret after its scheme (or its first ``=``).
A value that is exactly an environment reference (``${PGPASSWORD}``) is no secret.
"""

import re
from urllib.parse import unquote, unquote_plus

MASK = "********"

#: Parameter names that hold secrets (matched anywhere in the name, any case).
SECRET_NAME = re.compile(
    r"pass|pwd|token|secret|key|credential|private|signature|^sig$|^auth$", re.IGNORECASE
)

_ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
# Two letters at least: "C:" starts a Windows path, not a scheme.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]+)://"
    r"(?:(?P<user>[^:/?#@\s]*)(?::(?P<password>[^/?#@\s]*))?@)?"
    r"(?P<hosts>[^/?#@\s]*)"
    r"(?:/(?P<database>[^?#@\s]*))?"
    r"(?:\?(?P<query>[^#@\s]*))?"
)
_SPACE = " \t\n\r\f\v"
#: How deep a value holding another connection string is followed.
_MAX_DEPTH = 3

# (start, end) of a secret in the text scanned; None: the text cannot be parsed.
Spans = list[tuple[int, int]]


def mask(connection: str) -> str:
    """``connection`` with every literal secret replaced by ``MASK``."""
    core = connection.strip()
    lead = connection[: len(connection) - len(connection.lstrip())]
    trail = connection[len(lead) + len(core) :]
    spans = _scan(core, 0)
    if spans is None:
        return lead + core[: _kept_prefix(core)] + MASK + trail
    parts, at = [lead], 0
    for start, end in _merged(spans):
        parts += [core[at:start], MASK]
        at = end
    parts += [core[at:], trail]
    return "".join(parts)


def secret_values(connection: str, _depth: int = 0) -> list[str]:
    """The secrets of ``connection`` as written and as a driver decodes them (to hide
    them in error messages); a secret that is a connection string brings its own."""
    core = connection.strip()
    spans = _scan(core, 0)
    if spans is None:
        hidden = core[_kept_prefix(core) :]
        found = [hidden, *_userinfo_guesses(hidden)]
    else:
        found = [core[start:end] for start, end in _merged(spans)]
    values: dict[str, None] = {}  # an ordered set
    for value in found:
        for form in dict.fromkeys((value, _unquoted(value), unquote(value), unquote_plus(value))):
            if form:
                values[form] = None
            if form != core and _depth < _MAX_DEPTH and ("=" in form or "@" in form):
                values.update(dict.fromkeys(secret_values(form, _depth + 1)))
    return list(values)


def carries_secret(value: str) -> bool:
    """Whether ``value`` (an environment variable's, say) holds a credential: a URL
    with a password or a secret parameter, or a key/value string with one."""
    core = value.strip()
    spans = _scan(core, 0)
    if spans is None:
        # Unparseable: a credential when it reads like a URL with user information,
        # or names a secret parameter.
        url_like = _SCHEME.match(core) is not None and "@" in core
        return url_like or ("=" in core and SECRET_NAME.search(core) is not None)
    # A token is often the user of a web URL: https://<token>@host/...
    url = _URL.fullmatch(core)
    web_user = url is not None and url["scheme"].lower() in ("http", "https") and url["user"]
    return bool(spans) or bool(web_user)


# -- the reading ------------------------------------------------------------------------


def _scan(text: str, depth: int) -> Spans | None:
    url = _URL.fullmatch(text)
    if url is not None:
        return _url_secrets(url, depth)
    scheme = _SCHEME.match(text)
    if scheme is not None:
        if depth >= _MAX_DEPTH:
            return None  # "a:b:c:d:...": no driver reads that many schemes
        rest_at = scheme.end()
        rest = text[rest_at:]
        if text[: rest_at - 1].lower() == "duckdb":
            rest_at += len(rest) - len(rest.lstrip("/"))  # a path follows, any slashes
        elif rest.startswith("/"):
            return None  # "postgresql:/u:pw@h": a URL no parser agrees on
        inner = _scan(text[rest_at:], depth + 1)
        return None if inner is None else [(s + rest_at, e + rest_at) for s, e in inner]
    if "=" in text:
        return _keyword_secrets(text, depth)
    return None if "@" in text else []  # a path or a name; "u:pw@h" without a scheme


def _url_secrets(url: "re.Match[str]", depth: int) -> Spans:
    spans: Spans = []
    password = url.group("password")
    if password and not _is_reference(unquote(password)):
        spans.append(url.span("password"))
    query = url.group("query")
    if query:
        at = url.start("query")
        for part in query.split("&"):
            key, equals, value = part.partition("=")
            if equals and _is_secret(unquote_plus(key), unquote_plus(value), depth, True):
                start = at + len(key) + 1
                spans.append((start, start + len(value)))
            at += len(part) + 1
    return spans


def _keyword_secrets(text: str, depth: int) -> Spans | None:
    """libpq's reading and, with a ``;``, ODBC's: the secrets of every reading that
    parses (a driver may read it either way), None when neither does."""
    readings = [_libpq_pairs(text)]
    if ";" in text:
        readings.append(_odbc_pairs(text))
    parsed = [pairs for pairs in readings if pairs is not None]
    if not parsed:
        return None
    return [
        (start, end)
        for pairs in parsed
        for key, start, end, value in pairs
        if _is_secret(key, value, depth, False)
    ]


def _is_secret(key: str, value: str, depth: int, keywords_inside: bool) -> bool:
    """A parameter whose value is secret: a literal value under a secret name, or a
    value that is itself a connection string with a secret: a URL, or (in a URL's
    query, ``odbc_connect=``) a keyword string. A keyword string's own values are not
    read as keyword strings: ``DSN=x;PWD=y`` read by libpq is one ``DSN``."""
    if not value or _is_reference(value):
        return False
    if SECRET_NAME.search(key):
        return True
    nested = "://" in value or (keywords_inside and "=" in value)
    if depth >= _MAX_DEPTH or not nested:
        return False
    inner = _scan(value.strip(), depth + 1)
    if inner is None:
        return SECRET_NAME.search(value) is not None
    return bool(inner)


def _libpq_pairs(text: str) -> list[tuple[str, int, int, str]] | None:
    """``(key, value start, value end, value)`` as libpq's ``conninfo_parse`` reads
    them: whitespace-separated ``key = value``, a value single-quoted or not, ``\\``
    escaping the next character."""
    pairs = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in _SPACE:
            i += 1
            continue
        key_at = i
        while i < n and text[i] != "=" and text[i] not in _SPACE:
            i += 1
        key = text[key_at:i]
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n or text[i] != "=":
            return None  # libpq: missing "=" after the key
        i += 1
        while i < n and text[i] in _SPACE:
            i += 1
        value_at = i
        chars = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    return None  # libpq: unterminated quoted string
                if text[i] == "\\":
                    i += 1
                    if i < n:
                        chars.append(text[i])
                        i += 1
                    continue
                if text[i] == "'":
                    i += 1
                    break
                chars.append(text[i])
                i += 1
        else:
            while i < n and text[i] not in _SPACE:
                if text[i] == "\\":
                    i += 1
                    if i < n:
                        chars.append(text[i])
                        i += 1
                else:
                    chars.append(text[i])
                    i += 1
        pairs.append((key, value_at, i, "".join(chars)))
    return pairs


def _odbc_pairs(text: str) -> list[tuple[str, int, int, str]] | None:
    """ODBC's ``key=value;`` pairs, a value in braces (``}}`` is a brace) or up to the
    next ``;``."""
    pairs = []
    i, n = 0, len(text)
    while i < n:
        end = text.find(";", i)
        end = n if end < 0 else end
        equals = text.find("=", i, end)
        if equals < 0:
            if text[i:end].strip():
                return None  # a segment that is not key=value
            i = end + 1
            continue
        key = text[i:equals].strip()
        value_at = equals + 1
        while value_at < n and text[value_at] == " ":
            value_at += 1
        if value_at < n and text[value_at] == "{":
            j, chars = value_at + 1, []
            while True:
                if j >= n:
                    return None  # an unclosed brace
                if text[j] == "}":
                    if text.startswith("}}", j):
                        chars.append("}")
                        j += 2
                        continue
                    j += 1
                    break
                chars.append(text[j])
                j += 1
            end = text.find(";", j)
            end = n if end < 0 else end
            if text[j:end].strip():
                return None  # text after the closing brace
            pairs.append((key, value_at, j, "".join(chars)))
        else:
            pairs.append((key, value_at, end, text[value_at:end].strip()))
        i = end + 1
    return pairs


# -- helpers ----------------------------------------------------------------------------


def _is_reference(value: str) -> bool:
    return _ENV_REFERENCE.fullmatch(value.strip().strip("'")) is not None


def _merged(spans: Spans) -> Spans:
    merged: Spans = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _kept_prefix(text: str) -> int:
    """How much of an unparseable string stays visible: its scheme and slashes, or its
    first key and ``=``, or nothing."""
    scheme = _SCHEME.match(text)
    if scheme is not None:
        at = scheme.end()
        while at < len(text) and text[at] == "/":
            at += 1
        return at
    equals = text.find("=")
    return equals + 1 if equals >= 0 else 0


def _userinfo_guesses(text: str) -> list[str]:
    """What a lenient parser may take for the password of an unparseable URL: from the
    first ``:`` to the last ``@``, and its pieces between ``@`` (SQLAlchemy reads
    ``u:p@ss@h`` as password ``p`` and host ``ss@h``)."""
    colon, at = text.find(":"), text.rfind("@")
    if colon < 0 or at <= colon:
        return []
    guess = text[colon + 1 : at]
    return [guess, *guess.split("@")]


def _unquoted(value: str) -> str:
    """A libpq or ODBC value as written, without its quotes or braces."""
    if len(value) >= 2 and value[0] == "'" and value[-1] == "'":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == "{" and value[-1] == "}":
        return value[1:-1].replace("}}", "}")
    return value
