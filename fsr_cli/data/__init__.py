"""Dataset readers: each native layout becomes one table of `Sample` rows."""

from fsr_cli.data.sample import Problem, Sample, SampleTable

__all__ = ["Problem", "Sample", "SampleTable"]
