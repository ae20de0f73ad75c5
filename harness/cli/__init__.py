"""Command line: ``main`` builds the parser from one module per sub-command."""
