"""`fsr predict VIDEO --spot`: every micro-expression `fsr spot` finds in a long video, classified
by the run's model as a clip of its own (onset, spotted apex, offset), through the same quality
gate as any clip."""

from __future__ import annotations

from pathlib import Path

from fsr_cli.errors import FsrError
from fsr_cli.predict.clips import predict_clip
from fsr_cli.predict.predictor import Predictor


def predict_spotted(
    path: Path, predictor: Predictor, *, fps: float | None = None, force: bool = False
) -> dict:
    """{"clip", "spot": fsr spot's record with each interval's "label", "probabilities" (or
    "label": null and "reason"), "labelled": how many got a label}.

    Raises:
        SampleError: the video cannot be read or spotted (spot.Unspottable, with its quality).
    """
    from fsr_cli.spot import spot_video

    spotted = spot_video(path, fps=fps)  # frames numbered as predict numbers them
    numbers = spotted.numbers or list(range(spotted.frames))
    record = spotted.as_dict()
    labelled = 0
    for iv in record["intervals"]:
        k = numbers.index(iv["apex"])
        onset = min(iv["onset"], numbers[max(0, k - 1)])  # the flow needs an apex after its onset
        try:
            r = predict_clip(
                path,
                predictor,
                onset=onset,
                apex=iv["apex"],
                offset=iv["offset"],
                fps=spotted.fps,
                force=force,
            )
        except FsrError as exc:
            iv.update({"label": None, "reason": str(exc)})
            continue
        if r.get("label") is None:
            iv.update({"label": None, "reason": r.get("reason", r.get("error"))})
            continue
        labelled += 1
        iv.update(
            {
                "label": r["label"],
                "probabilities": r["probabilities"],
                **({"forced": True} if r.get("forced") else {}),
            }
        )
    return {"clip": str(path), "spot": record, "labelled": labelled}
