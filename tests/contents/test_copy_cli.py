"""``jupyter reactive-notebook copy SRC DEST``: trees of notebooks, files and folders
between the file store (real files in tmp_path) and DynamoDB (the session's moto server),
both ways, through the contents managers."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from nbformat import v4

import reactive_notebook
from reactive_notebook import cli
from reactive_notebook.contents.dynamodb import DynamoDBContentsManager, keys

from . import moto_server

REPO = Path(reactive_notebook.__file__).resolve().parent.parent


def png(width: int, height: int, seed: int) -> bytes:
    """A valid RGB PNG of noise (incompressible, so its notebook needs several chunks)."""
    rng = random.Random(seed)
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_tree(root: Path) -> dict[str, bytes]:
    """A tree to copy; returns what must arrive: relative path -> bytes."""
    image = base64.b64encode(png(400, 400, seed=7)).decode("ascii")
    chart = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                "plot()",
                id="c1",
                outputs=[v4.new_output("display_data", data={"image/png": image})],
            )
        ]
    )
    files = {
        # indent=1 and no final newline: not what nbformat writes, must not be rewritten
        "top.ipynb": json.dumps(
            v4.new_notebook(cells=[v4.new_markdown_cell("# é")]), indent=1
        ).encode("utf-8"),
        "notes.txt": "première ligne\nsecond line\n".encode(),
        "a/b/chart.ipynb": (json.dumps(chart, indent=1, sort_keys=True) + "\n").encode(),
        "a/raw.bin": bytes(range(256)) * 10,
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "empty").mkdir()
    (root / ".hidden.txt").write_text("not listed by the server, not copied")
    return files


def copy(*args: str) -> int:
    return cli.main(["copy", *args])


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def table(moto: moto_server.MotoServer, aws_env: None) -> str:
    return f"copy-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """The tree the copies start from (``make_tree``), in ``tmp_path/src``, and its files."""
    src = tmp_path / "src"
    src.mkdir()
    return src, make_tree(src)


def table_exists(endpoint_url: str, name: str) -> bool:
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint_url)
    try:
        client.describe_table(TableName=name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True


def test_files_to_dynamodb_and_back_byte_exact(
    tmp_path: Path,
    source: tuple[Path, dict[str, bytes]],
    table: str,
    moto: moto_server.MotoServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (src, files), out = source, tmp_path / "out"
    assert len(files["a/b/chart.ipynb"]) > 600_000  # compressed, over 2 chunks of the table
    endpoint = ["--endpoint-url", moto.endpoint_url, "--region", "us-east-1"]

    assert (
        copy(str(src), f"dynamodb://{table}/imported", *endpoint, "--create-table", "--verify") == 0
    )
    first = capsys.readouterr()
    assert first.err == ""
    assert first.out.splitlines()[-1] == "4 copied, 0 skipped, 0 failed (4 folders created)"
    assert "verified" in first.out

    # What the server would serve from the table: the notebook with its image.
    manager = DynamoDBContentsManager(
        table_name=table, endpoint_url=moto.endpoint_url, region_name="us-east-1"
    )
    model = asyncio.run(manager.get("imported/a/b/chart.ipynb"))
    assert model["type"] == "notebook"
    image = model["content"]["cells"][0]["outputs"][0]["data"]["image/png"]
    assert base64.b64decode(image) == png(400, 400, seed=7)
    listing = asyncio.run(manager.get("imported"))
    assert sorted(e["name"] for e in listing["content"]) == ["a", "empty", "notes.txt", "top.ipynb"]

    assert copy(f"dynamodb://{table}/imported", str(out), *endpoint) == 0
    back = capsys.readouterr()
    assert back.out.splitlines()[-1] == "4 copied, 0 skipped, 0 failed (3 folders created)"
    assert read_tree(out) == files
    assert (out / "empty").is_dir()
    assert not (out / ".hidden.txt").exists()


def test_dry_run_writes_nothing_and_counts(
    tmp_path: Path,
    source: tuple[Path, dict[str, bytes]],
    table: str,
    moto: moto_server.MotoServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src, _ = source
    endpoint = ["--endpoint-url", moto.endpoint_url]

    assert copy(str(src), f"dynamodb://{table}", *endpoint, "--create-table", "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "dry run: 4 to copy, 0 to skip, 0 failed (3 folders to create); nothing was written"
    )
    assert "would copy           a/b/chart.ipynb" in out
    assert not table_exists(moto.endpoint_url, table)

    missing = tmp_path / "not-yet"
    assert copy(str(src), str(missing), "--dry-run") == 0
    assert "dry run: 4 to copy" in capsys.readouterr().out
    assert not missing.exists()

    # Against a destination holding part of the tree: those are counted as skips.
    dest = tmp_path / "dest"
    (dest / "a").mkdir(parents=True)
    (dest / "a" / "raw.bin").write_bytes(b"older")
    assert copy(str(src), str(dest), "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "dry run: 3 to copy, 1 to skip, 0 failed (2 folders to create); nothing was written"
    )
    assert read_tree(dest) == {"a/raw.bin": b"older"}


def test_an_existing_destination_file_is_skipped_unless_overwrite(
    source: tuple[Path, dict[str, bytes]],
    table: str,
    moto: moto_server.MotoServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src, files = source
    endpoint = ["--endpoint-url", moto.endpoint_url]
    manager = DynamoDBContentsManager(
        table_name=table, endpoint_url=moto.endpoint_url, create_table=True
    )
    asyncio.run(manager.save({"type": "file", "format": "text", "content": "mine"}, "notes.txt"))

    assert copy(str(src), f"dynamodb://{table}", *endpoint) == 0
    out = capsys.readouterr().out
    assert "skipped              notes.txt (exists; --overwrite replaces it)" in out
    assert out.splitlines()[-1] == "3 copied, 1 skipped, 0 failed (3 folders created)"
    assert asyncio.run(manager.get("notes.txt"))["content"] == "mine"

    assert copy(str(src), f"dynamodb://{table}", *endpoint, "--overwrite") == 0
    out = capsys.readouterr().out
    assert "overwritten          notes.txt" in out
    assert out.splitlines()[-1] == "4 copied, 0 skipped, 0 failed (0 folders created)"
    notes = asyncio.run(manager.get("notes.txt"))["content"]
    assert notes.encode("utf-8") == files["notes.txt"]


def test_a_file_that_cannot_be_copied_fails_the_run_but_not_the_others(
    tmp_path: Path, source: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    (src, files), dest = source, tmp_path / "dest"
    (dest / "notes.txt").mkdir(parents=True)  # a folder where the source has a file

    assert copy(str(src), str(dest)) == 1
    captured = capsys.readouterr()
    assert "failed  notes.txt: a folder by that name exists at the destination" in captured.err
    assert captured.out.splitlines()[-1] == "3 copied, 0 skipped, 1 failed (3 folders created)"
    del files["notes.txt"]
    assert read_tree(dest) == files


def test_bad_stores_are_refused_with_status_2(
    tmp_path: Path,
    table: str,
    moto: moto_server.MotoServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint = ["--endpoint-url", moto.endpoint_url]
    dest = tmp_path / "dest"
    assert copy(str(tmp_path / "nowhere"), str(dest)) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nowhere'}: no such folder\n"

    assert copy(f"dynamodb://{table}", str(dest), *endpoint) == 2
    err = capsys.readouterr().err
    assert f"error: dynamodb://{table}: The DynamoDB table '{table}' does not exist" in err

    (tmp_path / "src").mkdir()
    assert copy(str(tmp_path / "src"), f"dynamodb://{table}", *endpoint) == 2
    assert "(pass --create-table to create it)" in capsys.readouterr().err
    assert not table_exists(moto.endpoint_url, table)

    assert copy("s3://bucket/x", str(dest)) == 2
    assert "s3://bucket/x: unknown kind of store" in capsys.readouterr().err

    assert copy(str(tmp_path), str(tmp_path / "src" / "inner")) == 2
    assert (
        capsys.readouterr().err
        == f"error: {tmp_path / 'src' / 'inner'} is {tmp_path} or inside it\n"
    )
    assert not (tmp_path / "src" / "inner").exists()
    assert not dest.exists()


def test_the_command_line_program(tmp_path: Path, moto: moto_server.MotoServer) -> None:
    """The real ``python -m reactive_notebook.cli``, in a process of its own: a missing
    source is status 2 with one line; a copy prints its count; no credential is printed."""
    env = {**os.environ, **moto_server.DUMMY_ENV, "PYTHONPATH": str(REPO)}
    env["AWS_SECRET_ACCESS_KEY"] = "do-not-print-me"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reactive_notebook.cli", "copy", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    missing = run(str(tmp_path / "missing"), str(tmp_path / "out"))
    assert missing.returncode == 2
    assert missing.stderr == f"error: {tmp_path / 'missing'}: no such folder\n"

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "n.ipynb").write_text(json.dumps(v4.new_notebook()))
    table = f"copy-{uuid.uuid4().hex[:12]}"
    done = run(
        str(tmp_path / "src"),
        f"dynamodb://{table}/x",
        "--endpoint-url",
        moto.endpoint_url,
        "--create-table",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "1 copied, 0 skipped, 0 failed (1 folders created)"
    assert "do-not-print-me" not in done.stdout + done.stderr


def test_a_copy_into_dynamodb_honours_the_partition_depth(
    source: tuple[Path, dict[str, bytes]], table: str, moto: moto_server.MotoServer
) -> None:
    src, files = source
    endpoint = ["--endpoint-url", moto.endpoint_url, "--region", "us-east-1"]
    depth = ["--partition-depth", "1"]
    assert copy(str(src), f"dynamodb://{table}", *endpoint, *depth, "--create-table") == 0
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto.endpoint_url)
    pks = {i["sk"]["S"]: i["pk"]["S"] for i in client.scan(TableName=table)["Items"]}
    assert pks[keys.head_key("a")] == "default"
    assert pks[keys.head_key("a/b/chart.ipynb")] == "default/a"
    manager = DynamoDBContentsManager(
        table_name=table, endpoint_url=moto.endpoint_url, region_name="us-east-1", partition_depth=1
    )
    model = asyncio.run(manager.get("a/raw.bin", format="base64"))
    assert base64.b64decode(model["content"]) == files["a/raw.bin"]
