"""Converters from public datasets and generic capture formats into the WAI format."""
