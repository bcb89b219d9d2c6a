"""graphrnn: recurrent models as message passing over graphs (PyTorch Geometric)."""
from . import data, nn

__version__ = "0.1.0"

__all__ = ["data", "nn", "__version__"]
