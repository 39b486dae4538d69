"""Rendering of reports (text now; HTML later)."""
