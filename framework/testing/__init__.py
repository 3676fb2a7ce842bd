"""Rule unit tests: fixture rows in, the rule's real query evaluated, expected rows compared."""
