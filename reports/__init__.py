"""Static HTML leaderboards built from stored run directories alone (no model is ever loaded)."""

from reports.site import build_site

__all__ = ["build_site"]
