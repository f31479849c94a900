"""Fixtures of the contents tests: a moto server for the session, a fresh DynamoDB table
per test, and contents managers over it and over the file store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.dynamodb import DynamoDBContentsManager

from . import moto_server


def notary_in_memory() -> Config:
    """Notebook signatures in memory: trusting a notebook in a test must not write the
    user's ``nbsignatures.db`` (nor be fooled by what earlier runs left there)."""
    return Config({"NotebookNotary": {"db_file": ":memory:"}})


@pytest.fixture(scope="session")
def moto() -> Iterator[moto_server.MotoServer]:
    server = moto_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for boto3 in this test only; the real AWS chain is cut off."""
    for name, value in moto_server.DUMMY_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def dynamo_manager(moto: moto_server.MotoServer, aws_env: None) -> DynamoDBContentsManager:
    """A DynamoDB contents manager over a table of its own (created on first use)."""
    return DynamoDBContentsManager(
        table_name=f"contents-{uuid.uuid4().hex[:12]}",
        endpoint_url=moto.endpoint_url,
        region_name="us-east-1",
        create_table=True,
        retry_base_delay=0.001,
        config=notary_in_memory(),
    )


def file_manager(root: Path) -> AtomicFileContentsManager:
    return AtomicFileContentsManager(
        root_dir=str(root), delete_to_trash=False, config=notary_in_memory()
    )


@pytest.fixture(params=["file", "dynamodb", "dynamodb-depth1"])
def contents_manager(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The contract suite's manager: the file store, then DynamoDB with one partition,
    then DynamoDB with a partition per top-level folder (``partition_depth=1``)."""
    if request.param == "file":
        return file_manager(tmp_path)
    cm = request.getfixturevalue("dynamo_manager")
    if request.param == "dynamodb-depth1":
        cm.partition_depth = 1
    return cm
