"""`numpy`: plain arrays as `.npy`, or compressed `.npz` with the array under `arr_0`, as the reference stores them.

Pickles are refused by default in both directions: a data file should never execute code when read.
"""

from __future__ import annotations

import tokenize
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from wai.atomic import atomic_path
from wai.errors import WaiError
from wai.io.codec import Codec, as_array, format_error

NPZ_KEY = "arr_0"


class NumpyCodec(Codec):
    """NumPy array files.

    Options: load `all_arrays` (.npz: return every array as a dict), `allow_pickle` (default False);
    store accepts an array, or for .npz a dict of arrays.
    """

    name = "numpy"
    suffixes = (".npy", ".npz")
    description = ".npy array, or .npz with the array under 'arr_0'"

    def load(self, path: Path, all_arrays: bool = False, allow_pickle: bool = False) -> Any:
        """The array (`arr_0` for .npz), or {name: array} with `all_arrays=True`."""
        try:
            if path.suffix.lower() == ".npy":
                return np.load(path, allow_pickle=allow_pickle)
            with np.load(path, allow_pickle=allow_pickle) as archive:
                names = list(archive.files)
                if all_arrays:
                    return {name: archive[name] for name in names}
                if NPZ_KEY not in names:
                    raise format_error(
                        path,
                        self.name,
                        f"no array '{NPZ_KEY}' in the archive (it has {names}); pass all_arrays=True",
                    )
                return archive[NPZ_KEY]
        except (WaiError, PermissionError):
            raise
        except (
            ValueError,
            OSError,
            EOFError,
            zipfile.BadZipFile,
            NotImplementedError,
            SyntaxError,
            tokenize.TokenError,
        ) as exc:
            # zipfile raises NotImplementedError for a member whose damaged header asks for an unknown feature, and
            # numpy parses the .npy header with Python's tokenizer (SyntaxError, TokenError)
            raise format_error(path, self.name, f"cannot read {path.suffix} file: {exc}") from exc

    def store(self, path: Path, data: Any) -> Path:
        if path.suffix.lower() == ".npz":
            if isinstance(data, dict):
                arrays = {str(k): as_array(v, path, self.name) for k, v in data.items()}
            else:
                arrays = {NPZ_KEY: as_array(data, path, self.name)}
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)  # as_array refused object arrays
            return path
        if isinstance(data, dict):
            raise format_error(path, self.name, "a dict of arrays needs a .npz file name")
        array = as_array(data, path, self.name)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
        return path
