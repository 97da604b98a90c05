"""auth pages."""
