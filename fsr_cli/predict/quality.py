"""The quality gate of `fsr predict`: never a confident label on footage fsr cannot read.

Each clip is measured where micro-expression analysis needs it, on what the pipeline computes
anyway (the onset's face and landmarks, the rigid drift of the stable landmarks, the flow):

- one face on the onset frame: with several, which person the label is about is a guess (the
  largest face is read);
- at least 40 px between the eyes: the aligned 128 px crop puts them 49 px apart, so below 40 px
  the crop upsamples the face, and a micro-expression's 1-2 px at the crop is under a pixel of the
  footage;
- a head drift from the onset of at most half the eye distance: micro-expression recordings are of
  a still face (lab clips drift by a few pixels);
- the stable landmarks (inner eye corners, nose) within 0.1 eye distance of their shared shift:
  they move together on one rigid face; when they do not, the face was lost, turned or occluded;
- a flow peak of at most 20 px at the 128 px crop: a micro-expression moves the face by 1-5 px
  there; more is a head or macro movement, or a lost face;
- no shot cut: two consecutive frames whose thumbnails differ by more than 25 grey levels on
  average (a lab camera's frames differ by a few; a cut changes the whole picture);
- the apex not in a blink: frames whose eyes differ from the onset's by more than 12 grey levels
  and 4x the skin around them are blink frames (`blink_frames`, preprocess/footage.py); a blink
  at the apex puts the lids' motion into the flow. Blinks elsewhere are reported, not refused.

Measured on 2026-12-07: the synthesised lab-like clips (`fsr synth --layout video`, 640x480)
have one face, 136 px between the eyes, a drift of 0.6 px, a spread of at most 1.0 px and a flow
peak of 1.1-1.4 px: they pass. The in-the-wild clip of ../shared/data/real-video (640x360, a
performer moving on stage) has 18 px between the eyes, a drift of 712 px, a spread of 4.3 px and
a flow peak of 108 px: four checks fail.
"""

from __future__ import annotations

import numpy as np

MIN_IOD_PX = 40.0
MAX_DRIFT_IOD = 0.5
MAX_SPREAD_IOD = 0.1
MAX_FLOW_PEAK_PX = 20.0  # at a 128 px crop; scaled with the crop
CROP = 128


def assess(prepared: dict, *, crop: int) -> dict:
    """The clip's measurements and the checks it fails: {"ok", "reasons", "faces", "iod_px",
    "drift_px", "track_spread_px", "flow_peak_px"} from prepare_clip's output."""
    iod = float(prepared["iod_px"])
    flow = prepared["flow"]
    peak = float(np.hypot(flow[0], flow[1]).max())
    doc = {
        "faces": int(prepared["faces"]),
        "iod_px": round(iod, 2),
        "drift_px": round(float(prepared["drift_px"]), 2),
        "track_spread_px": round(float(prepared["track_residual_px"]), 2),
        "flow_peak_px": round(peak, 2),
        "shot_cuts": list(prepared.get("shot_cuts", [])),
        "blink_frames": len(prepared.get("blink_frames", [])),
    }
    reasons = []
    if doc["faces"] > 1:
        reasons.append(f"{doc['faces']} faces on the onset frame: crop the clip to one person")
    if iod < MIN_IOD_PX:
        reasons.append(f"the face is too small ({iod:.0f} px between the eyes, at least {MIN_IOD_PX:.0f})")
    if doc["drift_px"] > MAX_DRIFT_IOD * iod:
        reasons.append(
            f"the head moved {doc['drift_px']:.0f} px from the onset, more than half the eye distance: "
            "not the still face micro-expressions are read on"
        )
    if doc["track_spread_px"] > MAX_SPREAD_IOD * iod:
        reasons.append(
            f"the face was not tracked through the clip (stable landmarks {doc['track_spread_px']:.1f} px "
            "apart from their shared motion): lost, turned or occluded"
        )
    limit = MAX_FLOW_PEAK_PX * crop / CROP
    if peak > limit:
        reasons.append(f"the flow peaks at {peak:.0f} px (at most {limit:.0f} for a micro-expression)")
    if doc["shot_cuts"]:
        reasons.append(f"a shot cut at frame {doc['shot_cuts'][0]} from the onset: the clip holds two shots")
    apex = prepared.get("apex_index", 0) - prepared.get("onset_index", 0)
    if apex in prepared.get("blink_frames", []):
        reasons.append("the apex falls in a blink: the lids' motion would be read as the expression")
    return {"ok": not reasons, "reasons": reasons, **doc}
