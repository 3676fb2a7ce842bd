"""The data files dac reads at run time: JSON schemas, table and function catalogs.

They live in ``schemas/`` at the repository's top level (editors and CI read them
there too) and are installed as the data package ``dac.schemas``. They are read
through :mod:`importlib.resources`, never through a path relative to the source
checkout, so a wheel, an sdist build, a zip import and an editable install all
find the same files.
"""

from __future__ import annotations

from importlib.resources import files


def read_text(name: str) -> str:
    """The text of ``schemas/<name>`` (``name`` may hold ``/``, e.g. ``tables/sentinel.json``)."""
    resource = files("dac.schemas")
    for part in name.split("/"):
        resource = resource / part
    return resource.read_text(encoding="utf-8")

