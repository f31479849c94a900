"""Put the public corpus notebooks of sources.json into tests/corpus/public/.

    python -m tests.corpus.materialise [--repo OWNER/NAME=GIT_DIR ...]

Each notebook is read with ``git show <commit>:<path>`` from a local git copy of its
repository (a clone, or a mirror) and checked against the sha256 recorded in
sources.json. A repository given no ``--repo`` is looked for at
``$CORPUS_MIRRORS/<owner>+<name>/repo`` (default ``/work/.mirror``). Nothing here
reaches the network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from .compare import PUBLIC, SOURCES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", action="append", default=[], help="OWNER/NAME=GIT_DIR")
    args = parser.parse_args(argv)
    given = dict(item.split("=", 1) for item in args.repo)
    mirrors = Path(os.environ.get("CORPUS_MIRRORS", "/work/.mirror"))
    PUBLIC.mkdir(exist_ok=True)
    missing = 0
    for source in json.loads(SOURCES.read_text()):
        repo = source["repo"]
        git_dir = Path(given.get(repo, mirrors / repo.replace("/", "+") / "repo"))
        shown = subprocess.run(
            ["git", "-C", str(git_dir), "show", f"{source['commit']}:{source['path']}"],
            capture_output=True,
        )
        if shown.returncode != 0:
            print(f"missing {source['file']}: no {repo} at {git_dir}", file=sys.stderr)
            missing += 1
            continue
        digest = hashlib.sha256(shown.stdout).hexdigest()
        if digest != source["sha256"]:
            print(f"{source['file']}: sha256 {digest} is not the recorded one", file=sys.stderr)
            missing += 1
            continue
        (PUBLIC / source["file"]).write_bytes(shown.stdout)
        print(f"{source['file']} <- {repo}@{source['commit'][:10]}:{source['path']}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
