"""dlpaper2code: paper PDF -> model graph -> verified framework code."""
__version__ = "0.1.0"
