"""Reading and writing WAI scene folders."""

from wai.scene.cameras import CAMERA_KEYS, camera_values
from wai.scene.dataset import is_scene, is_scene_folder, iter_scenes, list_scenes
from wai.scene.meta import SCENE_META, SCENE_META_DISTORTED, load_scene_meta, save_scene_meta
from wai.scene.modalities import ModalityLeaf, nest_modality
from wai.scene.paths import check_relative, resolve_in_scene
from wai.scene.scene import Frame, Scene, open_scene
from wai.scene.writer import STANDARD_MODALITIES, ModalitySpec, SceneWriter, WriterSummary

__all__ = [
    "CAMERA_KEYS",
    "SCENE_META",
    "SCENE_META_DISTORTED",
    "STANDARD_MODALITIES",
    "Frame",
    "ModalityLeaf",
    "ModalitySpec",
    "Scene",
    "SceneWriter",
    "WriterSummary",
    "camera_values",
    "check_relative",
    "is_scene",
    "is_scene_folder",
    "iter_scenes",
    "list_scenes",
    "load_scene_meta",
    "nest_modality",
    "open_scene",
    "resolve_in_scene",
    "save_scene_meta",
]
