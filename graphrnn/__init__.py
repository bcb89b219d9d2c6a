"""graphrnn: recurrent models as message passing over graphs (PyTorch Geometric)."""
from . import data, datasets, decoding, diagnostics, metrics, models, nn, training
from .inference import TrainedModel, load

__version__ = "0.1.0"

__all__ = ["data", "datasets", "nn", "models", "decoding", "training", "metrics", "diagnostics", "load", "TrainedModel",
           "__version__"]
