"""Where the project's data files live.

``schemas/`` sits at the repository top level (it is read by editors and CI as
well as by the package), so the package finds it relative to its own source.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = REPO_ROOT / "schemas"
TABLES_DIR = SCHEMAS_DIR / "tables"
