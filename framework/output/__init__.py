"""``dac validate`` findings in the formats CI systems read.

* :mod:`dac.output.sarif` - a SARIF 2.1.0 log, which GitHub code scanning (and
  other code-review tools) show as alerts on the lines of a pull request;
* :mod:`dac.output.github` - GitHub Actions workflow commands, which the runner
  turns into annotations without any upload step.

The text and JSON output stay in :mod:`dac.cli`; these writers take the same
findings, so every format reports the same files, lines and columns.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath


def relative_to_cwd(path: str) -> PurePath | None:
    """``path`` relative to the current folder, or None when it lies outside it.

    CI tools resolve a finding's file against the checkout, which is the folder
    dac runs in; a path outside it can only be given absolute. The test is on the
    normalised text (no symlinks resolved), as the finding named the file.
    """
    cwd = Path.cwd()
    try:
        return Path(os.path.abspath(path)).relative_to(cwd)
    except ValueError:
        return None


def display_path(path: str) -> str:
    """The path a CI tool should see: POSIX form relative to the current folder, else absolute."""
    relative = relative_to_cwd(path)
    return relative.as_posix() if relative is not None else Path(os.path.abspath(path)).as_posix()
