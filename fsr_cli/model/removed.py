"""Options that were measured on the real composite's dev subjects and removed: none of them moved
the default past the seeds' spread, and no shipped preset used one. A preset that names one gets
the finding in one line; docs/real-data.md ("Tried and removed") holds the tables.

LODO figures are pooled UF1, mean +/- std over the seeds named, each the then-default preset with
the one setting changed (`fsr train DEV --protocol lodo --model FILE.yaml --seeds ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fsr_cli.errors import UsageError

# ruff: noqa: E501 (one finding per line, as docs/real-data.md gives it)


@dataclass(frozen=True)
class Removed:
    default: object  # the value that left it off: a stored config holding it computes what fsr does now
    finding: str


REMOVED: dict[str, Removed] = {
    "flip_aug": Removed(False, "mirroring half the training batch: LODO 0.657 +/- 0.019 against 0.662 +/- 0.007 (seeds 0-2, 2026-12-02)"),
    "mirror_sym": Removed(False, "logits averaged with the mirror image's: LODO 0.660 +/- 0.011, LOSO 0.727 +/- 0.008 against 0.662 / 0.728 (seeds 0-2, 2026-12-02), at twice the compute"),
    "mixup": Removed(0.0, "mixup 0.2 / 1.0: LODO 0.646 / 0.659 against 0.662 (seeds 0-2, 2026-12-02)"),
    "swa_epochs": Removed(0, "the mean of the last 10 epochs' weights: LODO 0.680 +/- 0.015 (seeds 0-2) and 0.683 +/- 0.023 (seeds 3-7) against 0.682 / 0.680 (2026-12-03)"),
    "class_balance_power": Removed(1.0, "class weights (N / (K n_c))^P with P 1.5: LODO 0.688 +/- 0.007 (seeds 0-2) but 0.679 +/- 0.025 (seeds 3-7) against 0.682 / 0.680; P 0, 0.5, 0.75 lower (2026-12-03)"),
    "balance_datasets": Removed(False, "class weights per (dataset, class): LODO 0.669 +/- 0.015 (seeds 0-7) and 0.659 +/- 0.016 (seeds 8-15) against 0.681 / 0.667 (2026-12-04)"),
    "app_drop": Removed(0.0, "blank faces for 30 % of the batch: LODO 0.678 +/- 0.026 (seeds 0-2), 0.681 +/- 0.034 (seeds 3-7) against 0.682 / 0.680 (2026-12-03)"),
    "scale_aug": Removed(0.0, "random zoom +/-10 %: LODO 0.689 +/- 0.015 (seeds 0-7) but 0.672 +/- 0.014 (seeds 8-15) against 0.681 / 0.667 (2026-12-04)"),
    "rot_aug": Removed(0.0, "random rotation +/-10 deg: LODO 0.688 +/- 0.020 against 0.681 +/- 0.020 (seeds 0-7, 2026-12-04); 20 deg 0.681"),
    "cutout": Removed(0, "an 8 or 12 px square of the flow blanked: LODO 0.676 / 0.675 against 0.681 (seeds 0-7, 2026-12-04)"),
    "cutout_p": Removed(0.5, "the share of cutout samples; cutout itself was removed (see cutout)"),
    "head_dropout": Removed(0.0, "dropout 0.3 / 0.5 of the fused features: LODO 0.673 / 0.681 against 0.681 (seeds 0-7, 2026-12-04)"),
    "tta_shift": Removed(0, "logits averaged over the flow shifted 1 / 2 px: LODO 0.674 / 0.667 against 0.681 (seeds 0-7, 2026-12-04)"),
    "focal_gamma": Removed(0.0, "focal loss gamma 1: LODO 0.672 +/- 0.030 against 0.681 +/- 0.020 (seeds 0-7, 2026-12-06)"),
    "sam_rho": Removed(0.0, "sharpness-aware minimisation, rho 0.05 (2x the compute): LODO 0.686 +/- 0.020 against 0.681 +/- 0.020 (seeds 0-7, 2026-12-07)"),
    "domain_adv": Removed(0.0, "domain-adversarial training, strength 0.3: LODO 0.666 +/- 0.019 against 0.681 +/- 0.020 (seeds 0-7, 2026-12-07)"),
    "n_domains": Removed(4, "the width of domain_adv's dataset head; domain_adv itself was removed (see domain_adv)"),
}  # fmt: skip


def removed_error(source: str, name: str, value) -> UsageError:
    """The one-line error for a removed option found in a preset or a stored config."""
    return UsageError(
        f"{source}: {name} ({value!r}) was removed after it was measured no better than the seeds' "
        f"spread ({REMOVED[name].finding}); drop it (docs/real-data.md, 'Tried and removed')"
    )
