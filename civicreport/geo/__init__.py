"""Coordinate systems, grid index and distances; no Flask, no models."""
