"""fsr: FaceSleuth-R micro-expression recognition, from native datasets to LOSO/LODO tables."""

__version__ = "0.1.0"
