"""Labelled stand-ins for libraries that cannot run on a CPU-only machine (see each module)."""
