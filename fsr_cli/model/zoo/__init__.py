"""Published MER networks re-implemented from their papers, registered as `fsr.models` plugins
(pyproject.toml) with a preset each under models/. Every module's docstring is its model card:
the paper, what was followed, what was adapted and why. PUBLISHED holds the figures the papers
report on the MEGC2019 composite, with their model selection, for `fsr bench`'s leaderboard.
"""

# model -> (UF1, UAR, how the paper chose its epoch), as published on the MEGC2019 composite
PUBLISHED: dict[str, tuple[float, float, str]] = {
    "offapexnet": (0.720, 0.710, "not stated"),
    "dual-inception": (0.732, 0.728, "not stated"),
    "ststnet": (0.735, 0.761, "honest: fixed 500 epochs, last model"),
    "rcn-a": (0.743, 0.719, "honest: fixed epochs, last model (the paper's best RCN variant)"),
    "htnet": (0.860, 0.848, "best epoch on the test subject, 800 epochs"),
}
