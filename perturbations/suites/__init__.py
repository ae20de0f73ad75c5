"""Shipped perturbation suites (YAML); a package so that the files are installed with it."""
