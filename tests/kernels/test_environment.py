"""Which of the server's environment variables a kernel gets (``kernel_environment``):
by name (``ReactiveNotebook.kernel_env_deny``), by value (a credential in it), and the
allow-list (``kernel_env_allow``) over both. A real kernel's view is tested in
tests/handlers/test_kernel_environment.py."""

from __future__ import annotations

import pytest

from reactive_notebook.kernels.environment import SECRET_PATTERNS, kernel_environment


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MYSQL_PWD", "x"),
        ("GITHUB_PAT", "x"),
        ("SENTRY_DSN", "x"),
        ("OPENAI_KEY", "x"),
        ("AWS_ACCESS_KEY_ID", "x"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/secrets/sa.json"),
        ("DEPLOY_PRIVATE_KEY_PATH", "/secrets/id"),
        ("GPG_PASSPHRASE", "x"),
        ("JUPYTERHUB_API_TOKEN", "x"),
        ("db_password", "x"),  # any case
        ("DATABASE_URL", "postgresql://app:pw@db/app"),
        ("CACHE", "redis://:pw@cache:6379"),
        ("ALL_PROXY", "socks5://user:pw@proxy:1080"),
        ("INDEX", "https://ghp_token@git.example/org/repo"),  # a token as the user
        ("WAREHOUSE", "host=db user=app password=pw"),
        ("AZURE_CONN", "AccountName=a;AccountKey=k;EndpointSuffix=x"),
        ("JAVA_TOOL_OPTIONS", "-Djavax.net.ssl.trustStorePassword=changeit"),
    ],
)
def test_a_secret_by_name_or_by_value_is_dropped(name: str, value: str) -> None:
    assert kernel_environment({name: value}) == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PATH", "/usr/local/bin:/usr/bin"),
        ("HOME", "/home/ana"),
        ("LANG", "C.UTF-8"),
        ("PWD", "/home/ana/work"),  # not a *_PWD
        ("OLDPWD", "/home/ana"),
        ("LS_COLORS", "rs=0:di=01;34:ln=01;36:*.tar=01;31"),
        ("PS1", "\\u@\\h:\\w\\$ "),
        ("PIP_INDEX_URL", "https://pypi.example/simple"),
        ("DATABASE_URL", "postgresql://app:${PGPASSWORD}@db/app"),  # a reference, no secret
        ("GIT_REMOTE", "git+ssh://git@git.example/org/repo"),
        ("KEYBOARD", "us"),
    ],
)
def test_an_ordinary_variable_is_kept(name: str, value: str) -> None:
    assert kernel_environment({name: value}) == {name: value}


def test_the_allow_list_wins_over_names_and_values() -> None:
    environ = {"MYSQL_PWD": "x", "DATABASE_URL": "postgresql://app:pw@db/app"}
    assert kernel_environment(environ, allow=["mysql_pwd", "DATABASE_URL"]) == environ


def test_configured_patterns_replace_the_defaults_but_values_are_still_read() -> None:
    environ = {"APP_MODE": "x", "MYSQL_PWD": "x", "REDIS_URL": "redis://:pw@cache"}
    assert kernel_environment(environ, patterns=["app_*"]) == {"MYSQL_PWD": "x"}
    assert "*_PWD" in SECRET_PATTERNS
