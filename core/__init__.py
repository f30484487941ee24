"""SavedModel Lens core: read models into a neutral model, without Qt or TensorFlow."""

from smlens.core.errors import Problem, SmlensError
from smlens.core.formats.reader import open_model

__all__ = ["Problem", "SmlensError", "open_model"]
