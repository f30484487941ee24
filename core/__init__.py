"""SavedModel Lens core: read models into a neutral model, without Qt or TensorFlow."""

from .errors import Problem, SmlensError
from .reader import open_model

__all__ = ["Problem", "SmlensError", "open_model"]
