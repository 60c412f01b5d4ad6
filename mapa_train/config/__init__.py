"""Run configuration: YAML config groups shipped in the package, composed with OmegaConf (see `compose`)."""
