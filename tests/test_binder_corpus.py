"""dac's binder against the official one on the real queries of ../shared/corpus/queries.jsonl.

Each record carries what the official Kusto binder reported against the Log Analytics
catalog (oracle_errors_vs_log_analytics). dac's Sentinel verdict (any finding, or none)
must agree with it except on the queries tests/data/binder_differences.yaml lists with
the reason; the agreement may only rise. Skips cleanly without ../shared.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from dac.kql.binder import check_query

DIFFERENCES = Path(__file__).parent / "data" / "binder_differences.yaml"
KINDS = {"catalog difference", "official binder's quirk", "dac's deliberate finding", "our limitation"}


def test_sentinel_verdicts_agree_with_the_official_binder_but_for_the_listed_differences(corpus_queries) -> None:
    recorded = yaml.safe_load(DIFFERENCES.read_text(encoding="utf-8"))
    listed = {entry["id"]: entry for entry in recorded["differences"]}
    assert all(entry["kind"] in KINDS and entry["reason"] for entry in listed.values())
    differing = {query["id"]: [str(e) for e in errors] for query in corpus_queries
                 if bool(errors := check_query(query["query"], "sentinel")) != bool(query["oracle_errors_vs_log_analytics"])}
    agreement = 1 - len(differing) / len(corpus_queries)
    print(f"Sentinel verdict agrees with the official binder on {len(corpus_queries) - len(differing)} of "
          f"{len(corpus_queries)} queries ({agreement:.1%})")
    unlisted = {key: value for key, value in differing.items() if key not in listed}
    assert unlisted == {}, "differences from the official binder not in binder_differences.yaml"
    assert sorted(set(listed) - set(differing)) == [], "listed differences that no longer differ: remove them"
    assert agreement >= recorded["recorded_agreement"]
