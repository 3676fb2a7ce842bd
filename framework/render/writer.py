"""Writing the build output: deterministic bytes, all-or-nothing replacement.

Every artifact is serialised the same way (two-space indent, keys in template
order, UTF-8 without escapes, ``\\n`` line endings, a final newline), so the
same rules give byte-identical files.

A build is staged in a fresh directory beside ``out`` and only swapped in once
every file is written: a failed build leaves the previous output as it was and
removes its staging directory. The swap is two renames (old output aside, new
output in), so there is a moment in which ``out`` does not exist, but never one
in which it holds a mix of two builds.

``build`` refuses to replace a directory that is neither empty nor a previous
build output (recognised by its index.json), so a mistyped ``--out`` cannot
wipe a folder of rules.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from dac.errors import DacError, Location
from dac.files import MAX_JSON_BYTES, read_bytes

INDEX_NAME = "index.json"
GENERATOR = "dac build"


def serialise(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(serialise(document))


def is_build_output(folder: Path) -> bool:
    """True if ``folder`` is empty or holds an index.json written by a build."""
    if not any(folder.iterdir()):
        return True
    try:
        document = json.loads(read_bytes(folder / INDEX_NAME, MAX_JSON_BYTES))
    except (DacError, ValueError, RecursionError):  # missing, a device, too large, not JSON: not ours
        return False
    return isinstance(document, dict) and document.get("generator") == GENERATOR


def _check_target(out: Path, is_ours: Callable[[Path], bool], ours: str) -> None:
    if out == out.parent:
        raise DacError("is the root of the file system; give a folder for the output", Location(str(out)))
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise DacError("output path exists and is not a directory; refusing to replace it", Location(str(out)))
    if out.is_dir() and not is_ours(out):
        raise DacError(f"output directory is not empty and holds no {ours}; refusing to replace it", Location(str(out)))


@contextmanager
def staged_output(out: Path, is_ours: Callable[[Path], bool] = is_build_output,
                  ours: str = "dac build index.json") -> Iterator[Path]:
    """Yield a staging directory; on normal exit it replaces ``out``, on error it is removed.

    ``out`` is replaced only when it is missing, empty or ``is_ours`` (the output of the
    same command, named ``ours`` in the refusal): never someone else's folder.
    """
    out = Path(os.path.abspath(out))
    _check_target(out, is_ours, ours)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
        os.chmod(stage, 0o755)  # mkdtemp makes it private; the output is an ordinary folder
    except OSError as exc:
        raise DacError(f"cannot create the output directory: {exc.strerror}", Location(str(out))) from None
    try:
        yield stage
        _swap(stage, out, is_ours, ours)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap(stage: Path, out: Path, is_ours: Callable[[Path], bool], ours: str) -> None:
    _check_target(out, is_ours, ours)
    old: Path | None = None
    try:
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / "previous")
        os.rename(stage, out)
    except OSError as exc:
        if old is not None and (old / "previous").exists() and not out.exists():
            os.rename(old / "previous", out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        raise DacError(f"cannot replace the output directory: {exc.strerror}", Location(str(out))) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
