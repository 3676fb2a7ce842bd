"""``python -m dac``: the same command line as the ``dac`` script (for environments without it on PATH)."""

from dac.cli import run

run()
