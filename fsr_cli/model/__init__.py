"""The FaceSleuth-R network: config.py (presets), soa.py (SOA), fpf.py (appearance stream),
network.py (build_model), checkpoint.py (save/load). Import from the submodules; this package
file stays empty so that reading a preset does not import torch."""
