"""inbox pages."""
