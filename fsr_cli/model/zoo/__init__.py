"""Published MER networks re-implemented from their papers, registered as `fsr.models` plugins
(pyproject.toml) with a preset each under models/. Every module's docstring is its model card:
the paper, what was followed, what was adapted and why. PUBLISHED holds the figures the papers
report on the MEGC2019 composite, with their model selection, for `fsr bench`'s leaderboard.
"""

# model -> (UF1, UAR, how the paper chose its epoch), as published on the MEGC2019 composite
PUBLISHED: dict[str, tuple[float, float, str]] = {
    "offapexnet": (0.720, 0.710, "not stated"),
    "ststnet": (0.735, 0.761, "honest: fixed 500 epochs, last model"),
}
