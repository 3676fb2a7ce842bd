"""Keywords the official Kusto parser refuses as bare names, and where.

Kusto's lexer makes every keyword a keyword token whatever its place, and its parser then
accepts only some keywords where a name is expected; any other keyword must be written
bracketed (``['first']``), else the query has a syntax error (KS228, "The name 'first'
needs to be bracketed as ['first'] to be used in this context"). Our lexer reads all
words alike, so the parser asks this module whether a word may stand as a bare name in
the position it parses.

The word lists are the official parser's verdicts (npm @kusto/language-service-next
12.4.1, Kusto.Language), measured by running every keyword of that version in each
position below through it: a word is listed when the official parser rejects it there.
Three groups came out, matching Kusto.Language's own classes (``SyntaxFacts``
``canBeIdentifier`` and ``KustoFacts.ExtendedKeywordsAsIdentifiers`` /
``SpecialKeywordsAsIdentifiers`` in microsoft/Kusto-Query-Language):

- RESERVED: never a bare name (``first``, ``last``, ``and``, ``asc``, the type names ...);
- DECLARABLE: may name a new column (``where = 1``, ``datatable(in:long)``) but not be
  referred to, bound by ``let`` or listed by ``project-away``;
- REFERABLE: may be referred to (``| project kind``, ``x.kind``) but not be declared.
"""

from __future__ import annotations

from enum import Enum


class Role(Enum):
    """What a bare name does where it stands, which decides the keywords it may be."""

    DECLARED = "declared"    # ``name = expr``, ``(name:type)`` of a schema or parameter, parse columns, named args
    REFERENCE = "reference"  # a name in an expression, a member after '.', project-rename's old name
    BOUND = "bound"          # let, as, range's column, the column lists of project-away/keep/reorder
    CALLED = "called"        # the function name of ``word(...)``


RESERVED = frozenset("""
__contextual_datatable __crossCluster __crossDB __executeAndCache __id __isFuzzy __noWithSource __packedColumn
__projectAway __sourceColumnIndex and anomalychart areachart asc bagexpansion barchart between bin_legacy
boolean byte cachingpolicy callout cancel card char columnchart contains_cs containscs cycles dataexport
datascope date datetime decimal decodeblocks desc double dynamic encodingpolicy endswith endswith_cs
expandoutput extent_tags_retention external_data first flags float force_remote harddelete hardretention
has_all has_any has_cs hasprefix hasprefix_cs hassuffix hassuffix_cs hotcache int isfuzzy journal
ladderchart last like likecs linechart long missing nooptimization notcontains notcontainscs notlike
notlikecs or others pathformat piechart pivotchart project queries query_results real relaxed
restricted_view_access row_level_security rowstore rowstore_references rowstore_sealinfo rowstorepolicy
rowstores scatterchart seal seals shards simple softdelete softretention stackedareachart startswith
startswith_cs statistics storedqueryresultcontainers string tablepurge time timechart timeline timepivot
timespan treemap uint ulong union uniqueid unrestrictedviewers views with_itemindex with_match_id
with_step_name writeaheadlog
""".split())

DECLARABLE = frozenset("""
accumulate as by contains datatable earliest externaldata find has in invoke latest materialize mdm of
print sample search set sql title to toscalar totable verbose viewers where
""".split())

REFERABLE = frozenset({"kind", "with_source", "withsource"})

# Reserved words that are literal keywords before '(' (``datetime(...)``, ``long(1)``), and the declarable
# words that are functions (``toscalar(...)``): the official parser accepts these called, no other keyword.
LITERAL_WORDS = frozenset({"date", "datetime", "decimal", "double", "dynamic", "int", "long", "real", "time",
                           "timespan"})
FUNCTION_WORDS = frozenset({"materialize", "toscalar", "totable"})

_REFUSED = {
    Role.DECLARED: RESERVED | REFERABLE,
    Role.REFERENCE: RESERVED | DECLARABLE,
    Role.BOUND: RESERVED | DECLARABLE | REFERABLE,
    Role.CALLED: (RESERVED - LITERAL_WORDS) | (DECLARABLE - FUNCTION_WORDS) | REFERABLE,
}


def refusal(word: str, role: Role) -> str | None:
    """Why the official parser refuses ``word`` as a bare name in ``role``, or None when it accepts it.

    Keywords are case-sensitive in Kusto: ``First`` is an ordinary name.
    """
    if word in _REFUSED[role]:
        return f"'{word}' is a keyword: bracket it as ['{word}'] to use it as a name here"
    return None
