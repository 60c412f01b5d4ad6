"""`wai.io`: every modality codec of the WAI format behind one `load` / `store` pair.

    from wai.io import load, store
    depth = load("scene/depth/000001.exr", "depth")        # (H, W) float32
    store("scene/masks/000001.png", mask, "binary")        # (H, W) bool -> 0/255 PNG, written atomically

`FORMATS` is the one table from format name (the `format` field of a modality) to codec. Nothing here imports
torch: loaders return NumPy arrays, dicts and lists.
"""

from wai.io.codec import Codec
from wai.io.registry import FORMATS, SUFFIX_FORMATS, codec_for, infer_format, load, store

__all__ = ["FORMATS", "SUFFIX_FORMATS", "Codec", "codec_for", "infer_format", "load", "store"]
