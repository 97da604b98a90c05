"""identity pages."""
