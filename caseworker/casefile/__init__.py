"""casefile pages."""
