"""Loading rule and test files into a model that remembers where each value came from."""
