"""Models: MapAnything (V1, V1.1, ablations), VGGT, π³ and MoGe-2, built from
shared blocks. Every model's `forward(views)` returns one output dict per view, with the reference's keys.

    from mapa_train.models import build_model, model_table
    model = build_model("mapanything_tiny", {"model.encoder.gradient_checkpointing": True})

Nothing here downloads at import.
"""

from mapa_train.models.registry import (
    MODELS,
    build_model,
    count_parameters,
    count_registered_parameters,
    get_entry,
    model_table,
)

__all__ = [
    "MODELS",
    "build_model",
    "count_parameters",
    "count_registered_parameters",
    "get_entry",
    "model_table",
]
