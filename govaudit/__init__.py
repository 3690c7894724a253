"""govaudit's application layer: the command line and the orchestration of the layers.

The only package that wires crawler/ (observations), audit/ (judgement) and reports/
(rendering) together; none of them imports it (import-linter contracts in pyproject.toml).
"""
