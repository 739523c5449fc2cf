"""Evaluation of finished runs: what `fsr train` writes as its pooled outputs and `fsr evaluate`
recomputes from predictions.csv. It reads run directories (train.rundir) and never imports the
runner.

    metrics     pooled UF1 / UAR / accuracy over folds (MEGC), per class, dataset and fold
    runs        a run's metrics from predictions.csv, checked against config.yaml; comparisons
    bootstrap   95 % intervals over subjects, and paired differences of two runs
    seeds       each seed's figures and their mean and std (runs of `--seeds`)
    report      tables, report.md and the confusion figure (rich and matplotlib; import it directly)
"""

from fsr_cli.evaluation.bootstrap import BOOTSTRAP_DRAWS, compare_runs, paired_bootstrap, uf1_interval
from fsr_cli.evaluation.metrics import metrics_from_predictions, pooled_metrics, score
from fsr_cli.evaluation.runs import check_complete, comparison_rows, comparison_warnings, evaluate_run
from fsr_cli.evaluation.seeds import seed_predictions, seed_summary

__all__ = [
    "BOOTSTRAP_DRAWS",
    "check_complete",
    "compare_runs",
    "comparison_rows",
    "comparison_warnings",
    "evaluate_run",
    "metrics_from_predictions",
    "paired_bootstrap",
    "pooled_metrics",
    "score",
    "seed_predictions",
    "seed_summary",
    "uf1_interval",
]
