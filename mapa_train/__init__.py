"""An Accelerate-based trainer that reproduces the MapAnything recipe on WAI datasets."""
