"""The readers against `fsr synth` output: the sample table must equal fsr_ground_truth.csv."""

import pytest

from fsr_cli.data import detect_kind, read_dataset

LAYOUTS = ("casme2", "samm", "smic")


@pytest.fixture(scope="session")
def synth_roots(tmp_path_factory):
    from fsr_cli.synth import write_dataset

    base = tmp_path_factory.mktemp("synth")
    return {
        layout: write_dataset(base / layout, layout=layout, subjects=2, clips=3, seed=7, size=224)
        for layout in LAYOUTS
    }


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sample_table_matches_ground_truth(synth_roots, layout):
    from fsr_cli.synth import read_ground_truth, read_marker

    root = synth_roots[layout]
    assert detect_kind(root) == layout
    table = read_dataset(root)
    assert table.problems == []
    truth = {row.uid: row for row in read_ground_truth(root)}
    assert sorted(s.uid for s in table.samples) == sorted(truth) and len(truth) == 6
    slash = read_marker(root)["slash_apex"]  # the CASME II clip whose sheet apex is '/'
    for s in table.samples:
        t = truth[s.uid]
        assert (s.emotion, s.label3, s.onset, s.offset) == (t.emotion, t.label3, t.onset, t.offset)
        annotated = layout != "smic" and f"{s.subject}/{s.clip}" != slash
        assert s.apex == (t.apex if annotated else None)
        assert s.frame_numbers == tuple(range(t.onset, t.offset + 1))
        assert all(f.is_file() for f in s.frames)
    if layout == "casme2":
        assert slash is not None and sum(s.apex is None for s in table.samples) == 1
