"""One module per command group; `govaudit.cli` registers them."""
