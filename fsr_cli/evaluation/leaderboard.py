"""The leaderboard of `fsr bench`: per model and protocol, UF1 and UAR mean +/- std over seeds, the
seed ensemble's UF1 with its 95 % interval over subjects, each dataset's UF1, the same training's
figure with the epoch picked on the test subjects (the leak), and the paper's published figure.

Written as leaderboard.md, .csv, .tex (booktabs) and .json, and forest.png: every model's UF1
with its interval, the leaky figure beside it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fsr_cli.evaluation.report import _f, _interval
from fsr_cli.files import atomic_write, save_figure


def rows(entries: list[dict], published: dict) -> list[dict]:
    """One row per (model, protocol) from its run's metrics.json and leak.json."""
    out = []
    for e in entries:
        run = Path(e["run"])
        m = json.loads((run / "metrics.json").read_text())
        leak = json.loads((run / "leak.json").read_text())
        seeds = m.get("seeds")
        mean = seeds["mean"] if seeds else {"uf1": m["uf1"], "uar": m["uar"]}
        std = seeds["std"] if seeds else {"uf1": 0.0, "uar": 0.0}
        paper = published.get(m["model"]) if e["protocol"] == "loso" else None  # composite figures: LOSO
        out.append(
            {
                "model": m["model"],  # the preset's name, marked where it was edited
                "folder": e["model"],
                "protocol": e["protocol"],
                "uf1": mean["uf1"],
                "uf1_std": std["uf1"],
                "uar": mean["uar"],
                "uar_std": std["uar"],
                "ensemble_uf1": m["uf1"],
                "ensemble_ci95": m.get("uf1_ci95"),
                "per_dataset": {d: v["uf1"] for d, v in m["per_dataset"].items()},
                "leaky_uf1": leak.get("uf1"),
                "published_uf1": paper[0] if paper else None,
                "published_uar": paper[1] if paper else None,
                "published_selection": paper[2] if paper else None,
                "seeds": seeds["seeds"] if seeds else [m.get("seed", 0)],
                "run": str(run),
            }
        )
    return out


def _columns(table: list[dict]) -> tuple[list[str], list[list[str]]]:
    datasets = list(dict.fromkeys(d for r in table for d in r["per_dataset"]))
    head = [
        "model",
        "protocol",
        "UF1",
        "UAR",
        "ensemble UF1 [95 % CI]",
        *datasets,
        "test-oracle UF1",
        "published UF1",
    ]
    body = []
    for r in table:

        def spread(key: str, r=r) -> str:  # a std over one seed says nothing: not shown
            return f"{_f(r[key])} ± {_f(r[key + '_std'])}" if len(r["seeds"]) > 1 else _f(r[key])

        body.append(
            [
                r["model"],
                r["protocol"],
                spread("uf1"),
                spread("uar"),
                f"{_f(r['ensemble_uf1'])} {_interval(r['ensemble_ci95'])}",
                *[_f(r["per_dataset"].get(d)) for d in datasets],
                _f(r["leaky_uf1"]),
                _published(r),
            ]
        )
    return head, body


def _published(r: dict) -> str:
    if r["published_uf1"] is None:
        return "-"
    return f"{r['published_uf1']:.3f} ({r['published_selection']})"


def write(out: Path, table: list[dict], *, caption: str) -> list[Path]:
    """leaderboard.md, .csv, .tex, .json and forest.png under `out`; returns their paths."""
    out = Path(out)
    head, body = _columns(table)
    md = [f"| {' | '.join(head)} |", "|" + "---|" * len(head)] + [f"| {' | '.join(r)} |" for r in body]
    md += ["", caption]
    written = [atomic_write(out / "leaderboard.md", lambda t: t.write_text("\n".join(md) + "\n"))]
    buf = io.StringIO()
    flat = [{k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in r.items()} for r in table]
    w = csv.DictWriter(buf, fieldnames=list(flat[0]) if flat else ["model"], lineterminator="\n")
    w.writeheader()
    w.writerows(flat)
    written.append(atomic_write(out / "leaderboard.csv", lambda t: t.write_text(buf.getvalue())))
    written.append(atomic_write(out / "leaderboard.tex", lambda t: t.write_text(_tex(head, body, caption))))
    doc = json.dumps({"caption": caption, "rows": table}, indent=1)
    written.append(atomic_write(out / "leaderboard.json", lambda t: t.write_text(doc + "\n")))
    written.append(forest(out / "forest.png", table))
    return written


def _tex_escape(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
        s = s.replace(a, b)
    return s.replace("±", r"$\pm$")


def _tex(head: list[str], body: list[list[str]], caption: str) -> str:
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{ll" + "r" * (len(head) - 2) + "}",
        r"\toprule",
        " & ".join(_tex_escape(h) for h in head) + r" \\",
        r"\midrule",
        *[" & ".join(_tex_escape(c) for c in row) + r" \\" for row in body],
        r"\bottomrule",
        r"\end{tabular}",
        r"\caption{" + _tex_escape(caption) + "}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def forest(path: Path, table: list[dict]) -> Path:
    """UF1 of every (model, protocol): the seed ensemble with its 95 % interval over subjects
    (honest, filled) and the test-oracle figure of the same training (leaky, hollow)."""
    from fsr_cli.native import pyplot

    plt = pyplot()
    n = len(table)
    fig, ax = plt.subplots(figsize=(7, 0.35 * n + 1.2))
    labelled: set[str] = set()

    def label(name: str) -> str | None:  # each kind of mark once in the legend
        first = name not in labelled
        labelled.add(name)
        return name if first else None

    for i, r in enumerate(reversed(table)):
        if r["ensemble_ci95"]:
            ax.plot(r["ensemble_ci95"], [i, i], color="0.3", lw=1.5)
        ax.plot(r["ensemble_uf1"], i, "o", color="tab:blue", label=label("honest (last epoch)"))
        if r["leaky_uf1"] is not None:
            ax.plot(r["leaky_uf1"], i, "o", mfc="none", color="tab:red", label=label("test-oracle (leaky)"))
        if r["published_uf1"] is not None:
            ax.plot(r["published_uf1"], i, "x", color="0.2", label=label("published"))
    ax.set_yticks(range(n), [f"{r['model']} ({r['protocol']})" for r in reversed(table)], fontsize=8)
    ax.set_xlabel("UF1 (seed ensemble, 95 % bootstrap interval over subjects)")
    ax.grid(axis="x", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.35 - 0.6 / max(n, 1)), ncol=3)
    fig.tight_layout()
    save_figure(fig, path, dpi=150)
    plt.close(fig)
    return path
