"""The FID throughput benchmark's report (the measurement itself takes
minutes and runs by hand: `python -m benchmarks.fid_throughput`)."""

from benchmarks import fid_throughput


def _record(backend, ours_s, theirs_s):
    return {
        "backend": backend, "images": 64, "size": 32, "batch_size": 32, "repetitions": 3,
        "ours_s": ours_s, "theirs_s": theirs_s,
        "ours_images_per_s": 64 / sorted(ours_s)[1], "theirs_images_per_s": 64 / sorted(theirs_s)[1],
        "ratio": sorted(theirs_s)[1] / sorted(ours_s)[1], "warmup_ours_s": 9.0, "warmup_theirs_s": 3.0,
        "max_relative_difference": 1e-6, "device": "cpu", "threads": "single",
        "versions": {"keras": "3"}, "loads": [[1.0, 1.0, 1.0]], "date": "2026-01-01T00:00:00",
    }


def test_section_reports_images_per_second_and_the_target(tmp_path):
    records = [_record("tensorflow", [8.0, 8.0, 9.0], [16.0, 16.0, 17.0]),
               _record("torch", [16.0, 16.0, 17.0], [10.0, 12.0, 10.0])]
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\nbefore\n")
    fid_throughput.write_section(records, str(path), command="python -m benchmarks.fid_throughput")
    text = path.read_text()
    assert text.startswith("# Results\n\nbefore\n")
    assert "| tensorflow | 8.0 | 4.0 | 2.00 | 3 |" in text
    assert "| torch | 4.0 | 6.4 | 0.62 | 3 |" in text
    # The fastest backend (TensorFlow, 8 images/s) against torch-fidelity in its
    # process (4) and against torch-fidelity's fastest figure (6.4).
    assert "met — fastest: tensorflow, 8.0 against 4.0 images/s (×2.00)" in text
    assert "(6.4 images/s, in the torch worker): met (×1.25)" in text
    records[0]["ours_s"] = [20.0, 20.0, 20.0]
    records[0]["ours_images_per_s"] = 3.2
    fid_throughput.write_section(records, str(path))
    text = path.read_text()
    assert text.count(fid_throughput.BEGIN) == 1 and text.count("## FID network throughput") == 1
    assert "missed — fastest: torch, 4.0 against 6.4" in text
