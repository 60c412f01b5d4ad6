"""Training resolution sets: lists of (W, H), every side a multiple of the patch size."""

from __future__ import annotations

from collections.abc import Sequence

from mapa_train.errors import MapaConfigError, MapaUnknownNameError

Resolution = tuple[int, int]

#: The reference's `518_many_ar` set (training spec 1.5), in its order: the aspect-ratio index of a batch indexes it.
RES_518_MANY_AR: tuple[Resolution, ...] = (
    (518, 518),
    (518, 392),
    (518, 336),
    (518, 294),
    (518, 252),
    (518, 168),
    (392, 518),
    (336, 518),
    (294, 518),
    (252, 518),
)

RESOLUTION_SETS: dict[str, tuple[Resolution, ...]] = {"518_many_ar": RES_518_MANY_AR}

#: Nominal aspect ratio -> the 518 resolution the reference validates each dataset at.
VAL_ASPECTS: dict[str, Resolution] = {
    "1:1": (518, 518),
    "4:3": (518, 392),
    "3:2": (518, 336),
    "16:9": (518, 294),
    "2:1": (518, 252),
}


def resolve_resolutions(value: str | int | Sequence[int] | Sequence[Sequence[int]]) -> tuple[Resolution, ...]:
    """A resolution set from a set name, one int (square), one (W, H), or a list of (W, H)."""
    if isinstance(value, str):
        try:
            return RESOLUTION_SETS[value]
        except KeyError:
            known = ", ".join(sorted(RESOLUTION_SETS))
            raise MapaUnknownNameError(f"unknown resolution set {value!r}; known: {known}") from None
    if isinstance(value, int) and not isinstance(value, bool):
        out: list[Resolution] = [(value, value)]
    else:
        items = list(value)  # type: ignore[arg-type]
        if len(items) == 2 and all(isinstance(v, int) for v in items):
            items = [items]
        out = []
        for item in items:
            pair = tuple(item)  # type: ignore[arg-type]
            if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
                raise MapaConfigError(f"resolution: expected (W, H) integer pairs, got {item!r}")
            out.append((int(pair[0]), int(pair[1])))
    for w, h in out:
        if w < 1 or h < 1:
            raise MapaConfigError(f"resolution: sizes must be positive, got ({w}, {h})")
    if not out:
        raise MapaConfigError("resolution: the set is empty")
    return tuple(out)
