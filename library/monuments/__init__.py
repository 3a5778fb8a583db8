"""Monuments: 3D builds, guides and tours."""
