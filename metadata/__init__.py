"""Covisibility, splits and the parquet index of WAI datasets."""
