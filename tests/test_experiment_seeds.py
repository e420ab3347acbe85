"""The seed-spread summary of reproduction records (experiments/seeds.py)."""

import json
import statistics

import pytest

from experiments.seeds import load, summarise, table

RECIPE = {"dataset": "fashion-mnist", "epochs": 40, "batch_size": 64, "lr": 0.05}


def write(root, name, seed, final, best, **over):
    record = {
        "model": "resnet20",
        "dataset": "fashion-mnist",
        "backend": "numba",
        "recipe": dict(RECIPE),
        "epochs": 40,
        "seed": seed,
        "final_test_accuracy": final,
        "best_test_accuracy": best,
        "seconds_per_epoch_median": 150.0,
    }
    record.update(over)
    (root / name).mkdir()
    (root / name / "record.json").write_text(json.dumps(record))


def test_summary_statistics_and_target_count(tmp_path):
    finals = [0.9508, 0.9466, 0.9490]
    for seed, acc in enumerate(finals):
        write(tmp_path, f"r{seed}", seed, acc, acc + 0.001)
    s = summarise(load(["r0", "r1", "r2"], tmp_path), target=0.949)
    assert s["final_test_accuracy"]["mean"] == pytest.approx(statistics.fmean(finals))
    assert s["final_test_accuracy"]["std"] == pytest.approx(statistics.stdev(finals))
    assert (s["final_test_accuracy"]["min"], s["final_test_accuracy"]["max"]) == (0.9466, 0.9508)
    assert s["best_test_accuracy"]["max"] == pytest.approx(0.9518)
    assert s["final_reaching_target"] == 2
    assert [r["seed"] for r in s["runs"]] == [0, 1, 2]
    text = table(s)
    assert "| 1 | 94.66% | 94.76% | 150 |" in text
    assert "2 of 3" in text


def test_records_differing_in_more_than_the_seed_are_refused(tmp_path):
    write(tmp_path, "a", 0, 0.95, 0.95)
    write(tmp_path, "b", 1, 0.95, 0.95, recipe={**RECIPE, "lr": 0.1})
    with pytest.raises(ValueError, match="record 'b': recipe is .* only the seed may differ"):
        load(["a", "b"], tmp_path)


def test_a_recipe_field_missing_from_an_older_record_takes_its_default(tmp_path):
    write(tmp_path, "old", 0, 0.95, 0.95)
    write(tmp_path, "new", 1, 0.94, 0.94, recipe={**RECIPE, "label_smoothing": 0.0})
    write(tmp_path, "ls", 2, 0.94, 0.94, recipe={**RECIPE, "label_smoothing": 0.1})
    assert summarise(load(["old", "new"], tmp_path))["recipe"]["label_smoothing"] == 0.0
    with pytest.raises(ValueError, match="record 'ls': recipe"):
        load(["old", "ls"], tmp_path)


def test_repeated_seed_missing_record_and_single_record_are_refused(tmp_path):
    write(tmp_path, "a", 0, 0.95, 0.95)
    write(tmp_path, "b", 0, 0.94, 0.94)
    with pytest.raises(ValueError, match=r"distinct seeds, got \[0, 0\]"):
        load(["a", "b"], tmp_path)
    with pytest.raises(FileNotFoundError, match="record 'c'"):
        load(["a", "c"], tmp_path)
    with pytest.raises(ValueError, match="at least 2 to compare, got 1"):
        load(["a"], tmp_path)
