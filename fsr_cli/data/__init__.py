"""Dataset readers: each native layout becomes one table of `Sample` rows."""

from fsr_cli.data.registry import KINDS, detect_kind, read_dataset
from fsr_cli.data.sample import Problem, Sample, SampleTable

__all__ = ["KINDS", "Problem", "Sample", "SampleTable", "detect_kind", "read_dataset"]
