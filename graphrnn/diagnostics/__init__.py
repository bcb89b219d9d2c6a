"""Diagnostics of recurrent models: gradient norm through time, recurrent spectra."""
from graphrnn.diagnostics.gradients import gradient_norms_through_time, unroll
from graphrnn.diagnostics.spectral import recurrent_eigenvalues, spectral_radius

__all__ = ["gradient_norms_through_time", "unroll", "spectral_radius", "recurrent_eigenvalues"]
