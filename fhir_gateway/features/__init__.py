"""Vertical feature slices; a slice never imports another."""
