"""neurosim run palimpsest: the capacity it reports and the table and figures it writes."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.experiments import palimpsest as pe
from neurosim.io import read_results


def test_capacity_counts_the_newest_ages_retrieved_in_half_the_repetitions() -> None:
    retrieved = np.array([[1, 1, 0, 1, 0], [1, 0, 1, 1, 0]], dtype=bool)
    assert pe.capacity(retrieved) == 4  # ages 0-3 in at least half; age 4 in none
    assert pe.capacity(np.zeros((2, 5), dtype=bool)) == 0
    assert pe.capacity(np.ones((3, 5), dtype=bool)) == 5


def test_palimpsests_keep_items_where_the_hebbian_network_keeps_none(tmp_path) -> None:
    out = tmp_path / "p.h5"
    outcome = pe.run(out=out, sizes=(100,), n_reps=1, progress=False)
    rows = {(r[0], r[2]): r for r in outcome.rows}
    assert rows["hebbian", "-"][4] == 0
    assert rows["marginalist", 3.5][4] >= 3 and rows["clipped", 0.3][4] >= 3
    assert rows["marginalist", 2.0][4] < rows["marginalist", 3.5][4]  # too slow a decay blacks out too
    # familiarity of stored items falls with age and stays above novel items'
    res = read_results(out)
    m = next(t.metrics for t in res.trials.values() if t.attrs["rule"] == "marginalist" and t.attrs["value"] == 3.5)
    fam = m["familiarity"][0][0]
    assert fam[0] > fam[20] > fam[45] and fam[:10].min() > m["familiarity_novel"][0].max()
    assert all(f.exists() for f in outcome.files)


def test_bad_input_names_the_field(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"^sizes = 10 is not allowed"):
        pe.run(out=tmp_path / "x.h5", sizes=(10,))
    with pytest.raises(ValueError, match=r"^n_reps = 0 is not allowed"):
        pe.run(out=tmp_path / "x.h5", n_reps=0)
    assert not list(tmp_path.iterdir())
