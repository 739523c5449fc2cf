"""Spotting's signal stage on constructed block motion with a known truth (no video)."""

import numpy as np

from fsr_cli.spot import signal

L, T, B = 6, 900, 12


def lag_motion(E: np.ndarray, rng, noise=0.02) -> np.ndarray:
    """A[i] = E(i) - E(i - L) + noise, as motion.LagMotion measures it."""
    A = np.zeros_like(E)
    A[L:] = E[L:] - E[:-L]
    return A + rng.normal(0, noise, A.shape)


def bump(t, onset, apex, offset):
    t = np.asarray(t, float)
    rise = np.clip((t - onset) / (apex - onset), 0, 1)
    fall = np.clip((offset - t) / (offset - apex), 0, 1)
    return np.minimum(rise, fall)


def run(E, rng, eyes=None, near=None):
    A = lag_motion(E, rng)
    valid = np.ones(T, bool)
    valid[:L] = False
    eyes = np.full((T, 2), 0.05) if eyes is None else eyes
    near = np.zeros(B, bool) if near is None else near
    return signal.spot(A, eyes, valid, L, near)


def test_a_brief_excursion_is_spotted_and_its_interval_found():
    rng = np.random.default_rng(0)
    E = np.zeros((T, B, 2))
    t = np.arange(T)
    E[:, 3, 1] = 1.5 * bump(t, 300, 303, 309)  # a micro-expression: up and back within 2L frames
    E[:, 4, 1] = 1.2 * bump(t, 300, 303, 309)
    _, level, found = run(E, rng)
    assert len(found) == 1 and level >= signal.MIN_SCORE
    iv = found[0]
    assert abs(iv["apex"] - 303) <= 1 and iv["onset"] <= 302 and iv["offset"] >= 306
    assert 299 <= iv["onset"] and iv["offset"] <= 312


def test_lasting_changes_speech_and_slow_motion_are_not_spotted():
    rng = np.random.default_rng(1)
    t = np.arange(T)
    E = np.zeros((T, B, 2))
    E[:, 0, 1] = 3.0 * np.clip((t - 200) / 4, 0, 1)  # a fast change that stays (a macro onset)
    syllables = (t >= 500) & (t < 600)  # 3.75 Hz at 30 fps: speech in one place
    E[:, 7, 1] = 1.5 * syllables * np.sin(np.pi * ((t - 500) / 8.0 % 1.0)) ** 2
    E[:, 9, 0] = 4.0 * np.sin(2 * np.pi * t / 400)  # slow motion everywhere in the video
    _, _, found = run(E, rng)
    assert found == []


def test_blink_spill_near_the_eyes_is_set_aside_but_the_same_motion_elsewhere_counts():
    rng = np.random.default_rng(2)
    t = np.arange(T)
    E = np.zeros((T, B, 2))
    E[:, 1, 1] = 2.0 * bump(t, 300, 302, 306)  # skin beside the eye, dragged by a blink
    E[:, 1, 1] += 2.0 * bump(t, 600, 602, 606)  # ... and the same there later without a blink
    eyes = np.full((T, 2), 0.05) + rng.normal(0, 0.01, (T, 2))
    eyes[300:307, 0] = 4.0  # the eye itself moves: a blink
    near = np.zeros(B, bool)
    near[1] = True
    _, _, found = run(E, rng, eyes=eyes, near=near)
    assert [abs(f["apex"] - 602) <= 1 for f in found] == [True]
    assert (
        signal.blink_frames(eyes, np.ones(T, bool), L)[303]
        and not signal.blink_frames(eyes, np.ones(T, bool), L)[500]
    )


def test_frames_without_a_face_give_no_score_and_nothing_is_spotted_on_silence():
    rng = np.random.default_rng(3)
    E = np.zeros((T, B, 2))
    A = lag_motion(E, rng)
    valid = np.ones(T, bool)
    valid[:L] = valid[400:450] = False
    A[400:450] = 50.0  # garbage where the face was not held is never read
    scores, _, found = signal.spot(A, np.zeros((T, 2)), valid, L, np.zeros(B, bool))
    assert found == [] and np.all(scores[400 - L : 450] == 0)
