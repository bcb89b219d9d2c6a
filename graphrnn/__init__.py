"""graphrnn: recurrent models as message passing over graphs (PyTorch Geometric)."""
from . import data, diagnostics, models, nn, training

__version__ = "0.1.0"

__all__ = ["data", "nn", "models", "training", "diagnostics", "__version__"]
