"""The pack manifest: what each rule is, in which version, with a hash of its content.

The content hash covers the whole rule file as data (keys sorted), so any change
to the query or its metadata changes it, while YAML formatting does not.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dac.rules.history import is_deprecated
from dac.rules.model import Rule


def content_hash(rule: Rule, *, ignore: tuple[str, ...] = ()) -> str:
    data = {k: v for k, v in rule.data.items() if k not in ignore}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rule_entry(rule: Rule, stem: str) -> dict[str, Any]:
    version = rule.data.get("version")
    return {
        "id": rule.id,
        "name": rule.name,
        "kind": rule.kind,
        "version": version if isinstance(version, str) else None,
        "platforms": rule.platforms,
        "deprecated": is_deprecated(rule),
        "sha256": content_hash(rule),
        "artifacts": {"sentinel": f"sentinel/{stem}.json", "defender": f"defender/{stem}.json"},
    }
