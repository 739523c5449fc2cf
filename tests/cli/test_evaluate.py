import csv
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
import prepared_builders as pb  # noqa: E402


def test_evaluate_json_recomputes_metrics_from_predictions_csv(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(pb.shared_runs()["soa"], run)
    r = pb.run_fsr("evaluate", str(run), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc.pop("run") == str(run)
    assert doc == json.loads((run / "metrics.json").read_text())
    assert "per fold" in r.stderr and "casme2/01" in r.stderr
    # Make every prediction 'surprise', its probabilities with it: evaluate must follow
    # predictions.csv, not metrics.json.
    rows = list(csv.DictReader((run / "predictions.csv").open()))
    sure = {"p_negative": "0.0", "p_positive": "0.0", "p_surprise": "1.0", "pred": "surprise"}
    with (run / "predictions.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({**row, **sure} for row in rows)
    doc = json.loads(pb.run_fsr("evaluate", str(run), "--json").stdout)
    assert doc["acc"] == round(sum(r["true"] == "surprise" for r in rows) / len(rows), 6)
    assert doc["per_class"]["surprise"]["recall"] == 1.0 and doc["per_class"]["negative"]["recall"] == 0.0


def test_evaluate_compares_runs_and_flags_leakage():
    runs = pb.shared_runs()
    r = pb.run_fsr("evaluate", str(runs["soa"]), str(runs["oracle"]), str(runs["none"]), "--json")
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)["runs"]
    assert [d["run"] for d in docs] == [str(runs[k]) for k in ("soa", "oracle", "none")]
    assert [d["leakage"] for d in docs] == [False, True, False]
    assert docs[1]["selection"].startswith("test-oracle (LEAKAGE")
    assert "runs compared" in r.stderr and "LEAKAGE" in r.stderr


def test_evaluate_bad_run_folder(tmp_path):
    r = pb.run_fsr("evaluate", str(tmp_path))
    assert r.returncode == 2
    assert (
        r.stderr.strip() == f"error: {tmp_path}: not a training run (no config.yaml); give a folder made by "
        "`fsr train`"
    )


def test_evaluate_refuses_a_truncated_predictions_csv(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(pb.shared_runs()["soa"], run)
    lines = (run / "predictions.csv").read_text().splitlines()
    (run / "predictions.csv").write_text("\n".join(lines[:2]) + "\n")  # the header and one row
    r = pb.run_fsr("evaluate", str(run), "--json")
    assert r.returncode == 1 and r.stdout == ""
    assert f"1 rows where config.yaml records {len(lines) - 1} samples" in r.stderr
    assert "no prediction for fold" in r.stderr and "Traceback" not in r.stderr

    (run / "predictions.csv").write_text("\n".join(lines[:3]) + "\n" + lines[3][:12] + "\n")  # cut mid-row
    r = pb.run_fsr("evaluate", str(run))
    assert r.returncode == 1 and "line 4: " in r.stderr and "truncated" in r.stderr


def edit_predictions(run: Path, change) -> None:
    rows = list(csv.DictReader((run / "predictions.csv").open()))
    with (run / "predictions.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(change(dict(row)) for row in rows)


def test_evaluate_refuses_an_edited_pred_or_true_column(tmp_path):
    # issue 29 item 7: pred := true scored UF1 1.0; true := surprise was accepted
    run = tmp_path / "run"
    shutil.copytree(pb.shared_runs()["soa"], run)
    original = (run / "predictions.csv").read_text()
    edit_predictions(run, lambda row: {**row, "pred": row["true"]})
    r = pb.run_fsr("evaluate", str(run))
    assert r.returncode == 1 and "rows whose pred is not the most probable class" in r.stderr, r.stderr
    (run / "predictions.csv").write_text(original)
    edit_predictions(run, lambda row: {**row, "true": "surprise"})
    r = pb.run_fsr("evaluate", str(run))
    assert r.returncode == 1 and "the true labels differ from those config.yaml recorded" in r.stderr
    assert r.stderr.count("\n") == 1


def test_runs_side_by_side_say_what_they_were_trained_with_and_warn_when_unlike(tmp_path):
    import yaml

    runs = pb.shared_runs()
    other = tmp_path / "short"
    shutil.copytree(runs["none"], other)
    cfg = yaml.safe_load((other / "config.yaml").read_text())
    cfg["fit"]["epochs"] = 2  # as if trained on another budget
    (other / "config.yaml").write_text(yaml.safe_dump(cfg))
    r = pb.run_fsr("evaluate", str(runs["soa"]), str(other), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["warnings"] == [
        f"{other} and {runs['soa']} differ in epoch budgets (2 vs {pb.EPOCHS}): "
        "not a like-for-like comparison"
    ]
    assert "warning:" in r.stderr and "epochs" in r.stderr and "composite" in r.stderr
    same = json.loads(pb.run_fsr("evaluate", str(runs["soa"]), str(runs["none"]), "--json").stdout)
    assert same["warnings"] == []


def test_comparison_fits_80_columns_with_every_figure_whole():
    from rich.console import Console

    from fsr_cli.evaluation import compare_runs, comparison_rows, evaluate_run
    from fsr_cli.evaluation.report import comparison_tables, difference_table

    runs = pb.shared_runs()
    paths = [runs[k] for k in ("soa", "oracle", "none")]
    docs = [evaluate_run(p) for p in paths]
    rows = comparison_rows(docs)
    console = Console(width=80, record=True)
    for table in [*comparison_tables(rows), difference_table(compare_runs(paths, docs))]:
        console.print(table)
    text = console.export_text()
    assert max(map(len, text.splitlines())) <= 80
    assert "…" not in text  # nothing cut short: long run paths fold onto further lines
    for r in rows:
        for m in ("uf1", "uar", "acc"):
            assert f"{r[m]:.3f}" in text
    assert text.count("LEAKAGE") == 1


def test_comparisons_warn_about_protocol_and_selection_not_an_svms_epochs(tmp_path):
    # issue 29 item 8: LOSO against LODO gave no word; the SVM always "differed in epoch budgets"
    from fsr_cli.evaluation import comparison_rows, comparison_warnings, evaluate_run
    from fsr_cli.train.runner import TrainConfig, plan_run, run_training

    runs = pb.shared_runs()
    made = {}
    for name, kw in {
        "lodo": {"protocol": "lodo", "model_overrides": pb.TINY, "epochs": pb.EPOCHS},
        "svm": {"protocol": "loso", "model": "svm-flow"},
    }.items():
        made[name] = tmp_path / name
        made[name].mkdir()
        run_training(plan_run(TrainConfig(datasets=pb.shared_data(), **kw)), run=made[name], argv=["fsr"])
    docs = [evaluate_run(p) for p in (runs["soa"], made["lodo"], made["svm"], runs["oracle"])]
    warnings = comparison_warnings(comparison_rows(docs))
    assert any(str(made["lodo"]) in w and "differ in protocols (lodo vs loso)" in w for w in warnings)
    assert not any(str(made["svm"]) in w for w in warnings)  # same protocol, samples, honest; no epochs
    assert any(str(runs["oracle"]) in w and "differ in selection" in w for w in warnings)
    assert not any("epoch budgets" in w for w in warnings)
    r = pb.run_fsr("evaluate", str(runs["soa"]), str(made["lodo"]))
    assert "protocol" in r.stderr and "lodo" in r.stderr
