"""Baselines that are not trained by epochs: the RBF-SVM on the flattened flow (presets svm-flow,
svm-flow-std).

Each fold fits scikit-learn's SVC(C, gamma, class_weight="balanced") on its training samples'
(u, v, strain) maps flattened (svm-flow-std: each sample's maps standardised on their own and
2x2 average-pooled first, the input the networks' motion stream reads), and scores its test
samples; nothing is tuned on the test fold (C, gamma and the pooling are the preset's). The
"probabilities" a fold stores are the softmax of the one-vs-rest decision values, so their argmax
is the SVM's own prediction and seed ensembles can average them; they are scores, not calibrated
probabilities. The fit is deterministic: every seed gives the same SVM.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def fit_svm_folds(mcfg, fit, *, flow, app, y, folds, progress: Callable[[int, int], None] | None = None):
    """One SVC per fold -> a FoldResult per fold (no weights, a one-row history)."""
    from sklearn.svm import SVC

    from fsr_cli.train.engine import FoldResult
    from fsr_cli.train.foldwise import fold_norm

    x = svm_inputs(mcfg, flow)
    out = []
    for k, fold in enumerate(folds):
        svm = SVC(C=mcfg.svm_c, gamma=mcfg.svm_gamma, class_weight="balanced", kernel="rbf")
        svm.fit(x[fold.train_idx], y[fold.train_idx])
        train_acc = float((svm.predict(x[fold.train_idx]) == y[fold.train_idx]).mean())
        probs = np.zeros((len(fold.test_idx), mcfg.n_classes), dtype=np.float32)
        if len(fold.test_idx):
            probs = _scores(svm, x[fold.test_idx], mcfg.n_classes)
        out.append(
            FoldResult(
                name=fold.name,
                state_dict={},
                norm=fold_norm(flow, app, fold.train_idx),
                history=[{"epoch": 1, "loss": float("nan"), "train_acc": train_acc, "theta_deg": []}],
                test_probs=probs,
            )
        )
        if progress is not None:
            progress(k + 1, len(folds))
    return out


def svm_inputs(mcfg, flow: np.ndarray) -> np.ndarray:
    """(N, 3, S, S) flow -> (N, 3 * (S / svm_pool)^2) rows: standardised per sample under flow_norm
    "sample" / "median" (as the networks' motion stream does), then average-pooled."""
    x = np.asarray(flow, dtype=np.float64)
    if mcfg.flow_norm in ("sample", "median"):
        import torch

        from fsr_cli.model.network import standardise_maps  # the motion stream's own rule

        x = standardise_maps(torch.from_numpy(x), median=mcfg.flow_norm == "median").numpy()
    k = mcfg.svm_pool
    if k > 1:
        N, C, H, W = x.shape
        x = x.reshape(N, C, H // k, k, W // k, k).mean((3, 5))  # (N, C, H/k, W/k)
    return x.reshape(len(x), -1)


def _scores(svm, x: np.ndarray, n_classes: int) -> np.ndarray:
    """Softmax of the one-vs-rest decision values over all classes (absent ones: -inf)."""
    dec = svm.decision_function(x)
    if dec.ndim == 1:  # two classes in the fold's training data
        dec = np.stack([-dec, dec], axis=1)
    full = np.full((len(x), n_classes), -np.inf)
    if len(svm.classes_) == 1:
        full[:, svm.classes_[0]] = 0.0
    else:
        full[:, svm.classes_] = dec
    z = np.exp(full - full.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)
