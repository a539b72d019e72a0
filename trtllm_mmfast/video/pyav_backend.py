"""``pyav`` backend (placeholder until the sparse decoder lands)."""
