"""Reading inputs and naming outputs when the paths come from someone else.

Every file dac reads is named on a command line or found in a rule tree that a pull
request can change, so any of them may be a symbolic link to ``/dev/zero``, a FIFO that
blocks forever, a socket, or simply far larger than a rule file should be. The readers
here refuse anything but a regular file before opening it (and again on the open file,
which is opened non-blocking so a FIFO swapped in meanwhile cannot hang it), read at
most a stated number of bytes, and decode UTF-8 with an error at the line of the bad
byte. :func:`walk_tree` lists a rule tree without following a symbolic link that leads
out of it and without skipping a folder it cannot read. :func:`output_file` checks a
file to be written: it must name a file (not ``/``, not a folder); :func:`replaced_file`
writes one through a temporary file beside it.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from dac.errors import DacError, Location

MAX_QUERY_BYTES = 1_000_000  # a .kql file or standard input: as much as a rule file may hold
MAX_JSON_BYTES = 100_000_000  # an ARM template, a workspace export, a build's index.json


def special_kind(mode: int) -> str | None:
    """What a file of ``mode`` is when it is not a regular file ("a FIFO", ...), else None."""
    if stat.S_ISREG(mode):
        return None
    for test, word in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "a special file"


def _refusal(kind: str) -> str:
    return f"is {kind}, not a regular file; refusing to read it"


def read_bytes(path: str | Path, limit: int, error: type[DacError] = DacError, too_large: str = "") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises ``error`` at the file when it cannot be read, is not a regular file (checked
    before it is opened) or holds more than ``limit`` bytes (``too_large`` ends that message).
    """
    where = Location(str(path))
    try:
        kind = special_kind(os.stat(path).st_mode)
        if kind is not None:
            raise error(_refusal(kind), where)
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", where) from None
    try:
        kind = special_kind(os.fstat(handle).st_mode)
        if kind is not None:
            raise error(_refusal(kind), where)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(handle, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", where) from None
    finally:
        os.close(handle)
    if size > limit:
        raise error(f"file is larger than {limit} bytes" + (f"; {too_large}" if too_large else ""), where)
    return b"".join(chunks)


def decode_utf8(raw: bytes, path: str | Path, error: type[DacError] = DacError, keep_bom: bool = False) -> str:
    """``raw`` as UTF-8, a byte order mark dropped unless ``keep_bom``; a bad byte is an error at its line."""
    try:
        return raw.decode("utf-8" if keep_bom else "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", Location(str(path), line)) from None


def read_text(path: str | Path, limit: int, error: type[DacError] = DacError, too_large: str = "",
              keep_bom: bool = False) -> str:
    """:func:`read_bytes` decoded by :func:`decode_utf8`."""
    return decode_utf8(read_bytes(path, limit, error, too_large), path, error, keep_bom)


def regular_file(path: str | Path, error: type[DacError] = DacError, missing: str = "no such file") -> Path:
    """``path`` when it is a regular file (through symbolic links); else ``error`` saying what it is."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(missing, Location(str(path))) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", Location(str(path))) from None
    kind = special_kind(mode)
    if kind is not None:
        raise error(_refusal(kind), Location(str(path)))
    return Path(path)


def output_file(path: str | Path) -> Path:
    """``path`` as an absolute path to a file that may be written (created or replaced).

    A path that names no file (``/``, ``..``) or names an existing folder, device or
    FIFO is an error: the output would go somewhere else, or nowhere.
    """
    target = Path(os.path.abspath(path))
    if not target.name or target == target.parent:
        raise DacError("names no file (give a file path such as dist/pack.zip)", Location(str(path)))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise DacError(f"cannot use the output path: {exc.strerror}", Location(str(path))) from None
    kind = special_kind(mode)
    if kind is not None:
        raise DacError(f"is {kind}; give the path of a file to write", Location(str(path)))
    return target


def within(path: Path, root: Path) -> bool:
    """True when the resolved ``path`` is ``root`` or lies under it (``root`` resolved already)."""
    return path == root or root in path.parents


def walk_tree(root: str | Path, suffixes: tuple[str, ...], error: type[DacError] = DacError) -> Iterator[Path]:
    """Every file under ``root`` whose name ends in one of ``suffixes``, as a path through ``root``.

    A symbolic link to a file inside the tree is listed like the file; a link to a
    folder is not descended (what it points at is walked anyway). A link whose target
    lies outside the tree, or is missing, is an error naming the link when its name has
    one of ``suffixes`` or it leads to a folder: it is not followed, and a rule it hides
    is not silently left out. So is a folder that cannot be read, and an entry with one
    of ``suffixes`` that is a FIFO, device or socket.
    """
    top = Path(root)
    resolved = top.resolve()
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as exc:
            raise error(f"cannot read folder: {exc.strerror}", Location(str(folder))) from None
        for entry in listed:
            path = Path(entry.path)
            named = entry.name.endswith(suffixes)
            try:
                if entry.is_symlink():
                    target = Path(os.path.realpath(path))
                    if not within(target, resolved) or not target.exists():
                        if named or target.is_dir():
                            what = "outside the tree" if target.exists() else "to nothing"
                            raise error(f"symbolic link leads {what} ({target}); not followed", Location(str(path)))
                        continue
                    if target.is_dir():
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                    continue
                if not named:
                    continue
                kind = special_kind(entry.stat().st_mode)
            except OSError as exc:
                raise error(f"cannot read file: {exc.strerror}", Location(str(path))) from None
            if kind is not None:
                raise error(_refusal(kind), Location(str(path)))
            yield path


__all__ = ["MAX_JSON_BYTES", "MAX_QUERY_BYTES", "decode_utf8", "output_file", "read_bytes", "read_text",
           "regular_file", "special_kind", "walk_tree", "within"]


@contextmanager
def replaced_file(target: Path, failure: str, where: Location, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces ``target`` when the block ends without error.

    The content goes to a temporary file in ``target``'s folder (made if missing) and is
    moved over ``target`` in one step, so a reader sees the old file or the new one, never
    half of one, and a failure leaves neither a partial file nor the temporary one behind.
    ``mode`` sets the new file's permissions (mkstemp makes it private); an OSError is a
    DacError ``failure: reason`` at ``where``.
    """
    temporary = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(handle, "wb") as stream:
            yield stream
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        raise DacError(f"{failure}: {exc.strerror or exc}", where) from None
    finally:
        if temporary and os.path.exists(temporary):
            os.unlink(temporary)
