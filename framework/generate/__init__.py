"""Generated test cases: ``dac fixtures --for RULE`` solves a rule's filters for rows (see ``cases``)."""

from dac.generate.cases import GeneratedTests, Note, generate_tests

__all__ = ["GeneratedTests", "Note", "generate_tests"]
