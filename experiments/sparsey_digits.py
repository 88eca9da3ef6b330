"""Semantic memory for free: k-NN on Sparsey codes of scikit-learn's digits, stored by single-trial learning.

Rinkus' claim: the sparse distributed codes Sparsey assigns in one presentation preserve
similarity, so a test item's code overlaps most with the stored codes of similar items
and classification by code overlap works without any training objective (his 2-level
net: 91% on MNIST, 200 training images per class, learned single-trial in 220 s).

Data. scikit-learn's digits (1797 images, 8 x 8 grey levels 0..16, shipped with the
package), upsampled ``upsample`` times by bilinear interpolation (``scipy.ndimage.zoom``,
order 1; 24 x 24 by default) and binarized: a pixel is on where the interpolated grey
level exceeds ``threshold`` (8, half the grey range: strokes about 3 pixels wide, 33% of
the pixels on). A seeded stratified split keeps ``test_fraction`` (30%) as the test set.

Model. A :class:`~neurosim.models.sparsey_hierarchy.Hierarchy` with ``levels`` given as
``(rf, stride, q, k, min_active)``: by default level 1 is 7 x 7 MACs of 12 CMs x 24 cells,
each on a 6 x 6 pixel patch 3 apart (silent below 3 pixels on), level 2 is 3 x 3 MACs of
24 x 24 reading 3 x 3 blocks of level-1 MACs (the top level). For each training size
(``per_class`` images of each class, the first ones of a seeded order, so the sets are
nested; ``None`` = the whole training split) a fresh hierarchy learns the training
images once each (learning mode: codes drawn by the CSA, weights set in one trial) and
that pass is timed. Then training and test images are coded in recognition mode
(``learn=False, recognize=True``) and each test image gets the class of its k nearest
training images by code overlap (the number of CMs sharing their winner, summed over the
MACs of a level; :func:`overlap_matrix`): k = 1, and k = 5 with votes weighted by the
overlap (vote ties go to the nearest neighbour's class). Codes are read at the top level
and at level 1 (all level-1 MACs' codes side by side); the baseline is scikit-learn's
``KNeighborsClassifier`` (k = 1 and k = 5, Euclidean = Hamming on bits) on the same
binarized pixels. One resumable trial per training size.

Tuning (on a validation split carved from the training split, ``validation=True``; the
test split was not looked at). With Rinkus' CSA defaults (sigmoid centre 0.5, width
0.15) the codes collapse: a familiar input gives eta - 1 = chi K, and the V -> mu sigmoid
then favours cells with V = 0.5 half as much as those with V = 1, so repeated patches get
new codes, every cell learns from a wide union of patches, and in recognition mode most
cells of a CM tie at V = 1 (the first wins): level 1 at 50 training digits per class had
4..8 distinct recognition codes per MAC and 40..60% validation accuracy. What was tried:
thresholds 4, 6, 8, 10, 11 at 16 x 16 and 8 at 24 x 24, outline images, level-1 rf/stride
4/4, 4/2, 6/2, 8/4 (16 x 16) and 6/3 (24 x 24), (q, k) in (10, 10), (12, 12), (10, 16),
(16, 16), (10, 24), (12, 24), min_active 2..5, freeze_fraction 0.25..0.3, g_low 0.1..0.7,
chi 5 and 100, sigmoid (centre, width) (0.5, 0.15), (0.7, 0.1), (0.85..0.9, 0.05),
(0.95, 0.02), (0.97, 0.01), (0.99, 0.005), (0.995, 0.002), (0.999, 0.0005), level 2 of 1, 4
or 9 MACs of (10..32, 16..32), and a third level of one MAC. Chosen: a step-like sigmoid,
centre 0.995 and width 0.002 (when the input is familiar only the cells with V = 1, those
that learned every active input, are favoured; the others draw uniformly): the best at
both levels (0.999 / 0.0005 is equal within noise, 0.99 / 0.005 loses 10 points at the
top level); other CSA constants at their defaults; 24 x 24 with 6 x 6 patches (2..3
points over 16 x 16 at level 1); level 2 of 24 x 24 cells (1.5 points over 20 x 20; 32 x 32
no better). A single third-level MAC over the 9 level-2 MACs collapses (~0.3), so the
net has two levels. On the validation split (about 88 training digits per class, mean of
4 seeds) the top level reached 0.92 (k = 1 and k = 5), level 1 0.91, pixel k-NN 0.97.

What the codes show (default run): the familiarity G of active level-1 MACs is 1 for
stored and for unseen test digits alike (every 6 x 6 patch is covered by some learned cell
in every CM: level-1 G no longer signals novelty at this load), and in recognition mode
most CMs tie at V = 1, so a stored digit's recognition winner is its learned winner in
only ~30% of level-1 CMs (~8% at level 2); classification works because training and test
digits go through the same recognition-mode map.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.io import ResultsWriter, read_results
from neurosim.models.sparsey import CSAParams, code_bits
from neurosim.models.sparsey_hierarchy import Hierarchy, Level
from neurosim.plotting import COLORS, pyplot, save

N_CLASSES = 10
LEVEL_FIELDS = ("rf", "stride", "q", "k", "min_active")
DEFAULT_LEVELS = ((6, 3, 12, 24, 3), (3, 2, 24, 24, 1))
PUBLISHED = "Rinkus: 91% on MNIST, 2 levels, 200 training images per class learned single-trial in 220 s (9 / s)"
METHODS = ("top k=1", "top k=5", "L1 k=1", "L1 k=5", "pixel k=1", "pixel k=5")
KEYS = ("top_k1", "top_k5", "l1_k1", "l1_k5", "pixel_k1", "pixel_k5")


def load_images(upsample: int = 3, threshold: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """The digits upsampled (bilinear) to ``8 upsample`` pixels a side and binarized (grey > threshold)."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    d = load_digits()
    grey = zoom(d.images, (1, upsample, upsample), order=1)
    return grey > threshold, d.target.astype(np.int64)


def split(labels: np.ndarray, seed: int, test_fraction: float, validation: bool = False
          ) -> tuple[np.ndarray, np.ndarray]:
    """(train, evaluation) dataset indices, stratified and seeded; ``validation`` carves the evaluation
    set out of the training split (the test split is then unused)."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(labels.size), test_size=test_fraction, stratify=labels,
                                   random_state=seed)
    if validation:
        train, test = train_test_split(train, test_size=test_fraction, stratify=labels[train], random_state=seed + 1)
    return np.sort(train), np.sort(test)


def first_per_class(order: np.ndarray, labels: np.ndarray, n: int | None) -> np.ndarray:
    """The first ``n`` indices of each class in ``order`` (all for None), in ``order``'s order."""
    if n is None:
        return order
    rank = np.zeros(order.size, dtype=np.int64)
    for c in np.unique(labels[order]):
        at = labels[order] == c
        rank[at] = np.arange(np.count_nonzero(at))
    return order[rank < n]


def overlap_matrix(a: np.ndarray, b: np.ndarray, n_cells: int) -> np.ndarray:
    """Code overlap of every row of ``a`` with every row of ``b`` (codes (n, n_macs, q), winner cell
    indices in [0, n_cells), -1 silent): (n_a, n_b) numbers of CMs with the same winner, over all MACs.

    Each winner is one bit of a sparse (n, n_macs n_cells) matrix, so the overlap is one sparse product
    (``code_overlap`` summed over MACs, without the (n_a, n_b, n_macs, q) intermediate).
    """
    from scipy.sparse import csr_matrix

    def bits(c: np.ndarray) -> csr_matrix:
        n, m, _ = c.shape
        cols = (c + (np.arange(m) * n_cells)[None, :, None]).reshape(n, -1)
        on = c.reshape(n, -1) >= 0
        rows = np.broadcast_to(np.arange(n)[:, None], cols.shape)
        return csr_matrix((np.ones(int(on.sum()), np.int32), (rows[on], cols[on])), shape=(n, m * n_cells))

    return (bits(a) @ bits(b).T).toarray()


def knn(overlap: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, nearest training row) per test row: the k largest overlaps (earlier rows first
    on ties) vote with their overlap; a tied vote goes to the nearest neighbour's class."""
    near = np.argsort(-overlap, axis=1, kind="stable")[:, :k]
    rows = np.arange(overlap.shape[0])[:, None]
    votes = np.zeros((overlap.shape[0], N_CLASSES))
    np.add.at(votes, (np.broadcast_to(rows, near.shape), labels[near]), overlap[rows, near].astype(np.float64))
    votes[rows[:, 0], labels[near[:, 0]]] += 0.5  # overlaps are integers: only ties change
    return votes.argmax(axis=1), near[:, 0]


def familiarity(h: Hierarchy, images: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Recognition-mode codes and G of every MAC, level by level, MAC by MAC (as ``Hierarchy.present``
    does, which returns the codes only): per level (n, n_macs, q) codes and (n, n_macs) G (0 = silent)."""
    n = len(images)
    units = np.asarray(images, dtype=bool).reshape(n, -1, 1)
    codes, gs = [], []
    for macs, blocks in zip(h.macs, h.blocks, strict=True):
        got = [mac.present(units[:, block].reshape(n, -1), learn=False, recognize=True)
               for mac, block in zip(macs, blocks, strict=True)]
        codes.append(np.stack([g.cells for g in got], axis=1))
        gs.append(np.stack([g.familiarity for g in got], axis=1))
        units = code_bits(codes[-1].reshape(-1, macs[0].q), macs[0].n_cells).reshape(n, len(macs), -1)
    return codes, gs


def build(image_shape: tuple[int, int], levels, params: CSAParams, backend: str = "numba",
          device: str | None = None) -> Hierarchy:
    return Hierarchy(image_shape, tuple(Level(*lv) for lv in levels), params=params, backend=backend, device=device)


def trial(images: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray, levels,
          params: CSAParams, rng: np.random.Generator, backend: str = "numba", device: str | None = None
          ) -> dict[str, np.ndarray]:
    """Learn ``train`` (dataset indices, in order) single-trial; classify ``test`` by code overlap."""
    from sklearn.neighbors import KNeighborsClassifier

    h = build(images.shape[1:], levels, params, backend, device)
    t0 = time.perf_counter()
    h.present(images[train], rng)
    learn_s = time.perf_counter() - t0
    c_train = h.present(images[train], learn=False, recognize=True)
    c_test = h.present(images[test], learn=False, recognize=True)
    y_train, y_test = labels[train], labels[test]
    out: dict[str, np.ndarray] = {"train_index": train, "learn_s": np.array(learn_s),
                                  "images_per_s": np.array(train.size / learn_s)}
    for name, li in (("top", len(levels) - 1), ("l1", 0)):
        ov = overlap_matrix(c_test[li], c_train[li], levels[li][2] * levels[li][3])
        for k in (1, 5):
            pred, nearest = knn(ov, y_train, k)
            out[f"pred_{name}_k{k}"] = pred
            out[f"{name}_k{k}"] = np.array(np.mean(pred == y_test))
        if name == "top":
            out["nearest_top"] = train[nearest]
            out["nearest_top_overlap"] = ov[np.arange(test.size), nearest]
            out["top_max_overlap"] = np.array(len(h.macs[li]) * levels[li][2])
    px_train, px_test = images[train].reshape(train.size, -1), images[test].reshape(test.size, -1)
    for k in (1, 5):
        pred = KNeighborsClassifier(n_neighbors=min(k, train.size)).fit(px_train, y_train).predict(px_test)
        out[f"pred_pixel_k{k}"] = pred
        out[f"pixel_k{k}"] = np.array(np.mean(pred == y_test))
    g_train, g_test = familiarity(h, images[train])[1], familiarity(h, images[test])[1]
    out["stored_g1_min"] = np.array(g_train[0][c_train[0][:, :, 0] >= 0].min(initial=1.0))
    for name, li in (("g1", 0), ("g_top", len(levels) - 1)):
        out[f"stored_{name}_mean"] = np.array(g_train[li][c_train[li][:, :, 0] >= 0].mean())
        out[f"test_{name}_mean"] = np.array(g_test[li][c_test[li][:, :, 0] >= 0].mean())
    return out


def _check(per_class, levels, upsample, threshold, test_fraction, test_per_class, n_examples, seed) -> None:
    ck.count("seed", seed, minimum=0)
    if seed > 2**32 - 2:
        ck.fail("seed", seed, f"an integer in [0, {2**32 - 2}]")
    ck.count("upsample", upsample, minimum=2)  # 16 x 16 at least
    if upsample > 8:
        ck.fail("upsample", upsample, "an integer in [2, 8]")
    ck.in_range("threshold", threshold, 0.0, 15.0)
    ck.in_range("test_fraction", test_fraction, 0.1, 0.5)
    if test_per_class is not None:
        ck.count("test_per_class", test_per_class)
    ck.count("n_examples", n_examples)
    if n_examples > 20:
        ck.fail("n_examples", n_examples, "an integer in [1, 20]")
    if not isinstance(per_class, tuple | list) or not per_class:
        ck.fail("per_class", per_class, "a non-empty tuple of counts (or None for the whole training split)")
    for n in per_class:
        if n is not None:
            ck.count("per_class", n)
    if not isinstance(levels, tuple | list) or len(levels) < 2:
        ck.fail("levels", levels, "at least two levels (rf, stride, q, k, min_active)")
    for i, lv in enumerate(levels):
        if not isinstance(lv, tuple | list) or len(lv) != len(LEVEL_FIELDS):
            ck.fail(f"levels[{i}]", lv, "(rf, stride, q, k, min_active)")
        for name, v in zip(LEVEL_FIELDS, lv, strict=True):
            ck.count(f"levels[{i}].{name}", v)


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/sparsey-digits.h5", resume: bool = False, progress: bool = True,
        per_class: tuple[int | None, ...] = (10, 25, 50, 100, None),
        levels: tuple[tuple[int, int, int, int, int], ...] = DEFAULT_LEVELS, upsample: int = 3,
        threshold: float = 8.0, sigmoid_center: float = 0.995, sigmoid_width: float = 0.002, g_low: float = 0.1,
        test_fraction: float = 0.3, test_per_class: int | None = None, validation: bool = False,
        n_examples: int = 10) -> Outcome:
    """``backend`` and ``device``: the hierarchy's engine (numba or torch)."""
    eng = engine("sparsey-digits", backend, device)
    out = Path(out)
    _check(per_class, levels, upsample, threshold, test_fraction, test_per_class, n_examples, seed)
    levels = tuple(tuple(int(v) for v in lv) for lv in levels)
    params = CSAParams(sigmoid_center=sigmoid_center, sigmoid_width=sigmoid_width, g_low=g_low)
    images, labels = load_images(upsample, threshold)
    build(images.shape[1:], levels, params)  # a bad geometry fails before anything is written
    train, test = split(labels, seed, test_fraction, validation)
    order = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,))).permutation(train)
    test = np.sort(first_per_class(test, labels, test_per_class))
    config = {"experiment": "sparsey-digits", "per_class": list(per_class), "levels": [list(lv) for lv in levels],
              "upsample": upsample, "threshold": threshold, "test_fraction": test_fraction,
              "test_per_class": test_per_class, "validation": validation, "n_examples": n_examples, "seed": seed,
              "params": vars(params)}
    build((2, 2), ((2, 2, 2, 2, 1),), params, eng["backend"], eng["device"]).present(
        np.ones((1, 2, 2), bool), np.random.default_rng(0))  # compile (numba) outside the timed trials
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        writer.write_main(metrics={"test_index": (test, ""), "test_labels": (labels[test], "")})
        todo = [i for i in range(len(per_class)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="training sizes", disable=not progress):
            chosen = first_per_class(order, labels, per_class[i])
            r = trial(images, labels, chosen, test, levels, params,
                      np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, i))), eng["backend"],
                      eng["device"])
            units = {"learn_s": "s", "images_per_s": "1/s"}
            writer.write_trial(i, metrics={name: (v, units.get(name, "")) for name, v in r.items()},
                               attrs={"per_class": -1 if per_class[i] is None else per_class[i],
                                      "n_train": int(chosen.size), "seed": seed})
    res = read_results(out)
    rows = []
    for i, n in enumerate(per_class):
        m = res.trials[i].metrics
        n_train = int(res.trials[i].attrs["n_train"])
        rows.append([f"all ({n_train / N_CLASSES:.0f})" if n is None else n, n_train, float(m["learn_s"][0]),
                     float(m["images_per_s"][0]), *(float(m[key][0]) for key in KEYS)])
    last = max(range(len(per_class)), key=lambda i: (int(res.trials[i].attrs["n_train"]), i))
    files = [out, plot_accuracy(rows, out.with_name(f"{out.stem}_accuracy.png"), validation),
             plot_neighbours(res, last, images, labels, n_examples, out.with_name(f"{out.stem}_neighbours.png"))]
    g_min = min(float(t.metrics["stored_g1_min"][0]) for t in res.trials.values())
    best = rows[last]
    evaluated = "validation" if validation else "test"
    notes = [f"{images.shape[1]} x {images.shape[2]} binary images (grey > {threshold:g}), {test.size} {evaluated} "
             f"images; levels (rf, stride, q, k, min_active) = {list(levels)}; sigmoid centre {sigmoid_center:g}, "
             f"width {sigmoid_width:g}, g_low {g_low:g}",
             f"learning pass: {best[3]:.0f} images/s ({best[1]} images in {best[2]:.2f} s; {PUBLISHED})",
             f"stored training images at level 1: G = 1 in every active MAC: {g_min == 1.0}; mean G of active MACs, "
             f"stored / {evaluated} images: level 1 {_g(res, last, 'g1')}, top level {_g(res, last, 'g_top')}",
             f"at {best[1]} training images: top level k=1 {best[4]:.3f}, level 1 k=1 {best[6]:.3f}, "
             f"pixel k-NN k=1 {best[8]:.3f} (chance {1 / N_CLASSES:g})"]
    return Outcome(title=f"sparsey-digits: single-trial Sparsey codes, k-NN by code overlap ({evaluated} accuracy)",
                   columns=["per class", "train images", "learn (s)", "images/s", *METHODS], rows=rows, files=files,
                   ok=g_min == 1.0 and best[4] > 2.0 / N_CLASSES, notes=notes)


def _g(res, i: int, name: str) -> str:
    m = res.trials[i].metrics
    return f"{float(m[f'stored_{name}_mean'][0]):.3f} / {float(m[f'test_{name}_mean'][0]):.3f}"


def plot_accuracy(rows: list[list], path: Path, validation: bool = False) -> Path:
    """Accuracy vs training images per class, one line per read-out; learning time on the right."""
    plt = pyplot()
    rows = sorted(rows, key=lambda r: r[1])
    per = [r[1] / N_CLASSES for r in rows]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    styles = ("o-", "o--", "s-", "s--", "^:", "v:")
    for j, (label, style) in enumerate(zip(METHODS, styles, strict=True)):
        name = label.replace("top", "Sparsey top level").replace("L1", "Sparsey level 1").replace("pixel", "pixel k-NN")
        ax.plot(per, [r[4 + j] for r in rows], style, color=COLORS[j // 2], label=name,
                alpha=1.0 if j % 2 == 0 else 0.6)
    ax.axhline(1 / N_CLASSES, color="0.5", lw=1, ls="--")
    ax.text(per[0], 1 / N_CLASSES + 0.01, "chance", fontsize=8, color="0.4")
    ax.set_xscale("log")
    ax.set_xticks(per, [f"{p:.0f}" for p in per])
    ax.minorticks_off()
    ax.set_xlabel("training images per class (learned once each)")
    ax.set_ylabel(f"{'validation' if validation else 'test'} accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    bx.plot([r[1] for r in rows], [r[2] for r in rows], "o-", color=COLORS[0])
    for r in rows:
        bx.annotate(f"{r[3]:.0f}/s", (r[1], r[2]), textcoords="offset points", xytext=(4, -10), fontsize=7)
    bx.set_xlabel("training images")
    bx.set_ylabel("learning pass (s)")
    bx.grid(alpha=0.3)
    fig.suptitle("Sparsey on scikit-learn digits: k-NN by code overlap after single-trial learning")
    return save(fig, path)


def plot_neighbours(res, trial_index: int, images: np.ndarray, labels: np.ndarray, n_examples: int,
                    path: Path) -> Path:
    """Test digits (one per class, then the next ones) above their nearest stored training digit by
    top-level code overlap, from trial ``trial_index``."""
    plt = pyplot()
    test = res.metrics["test_index"][0]
    m = res.trials[trial_index].metrics
    nearest, overlap, top = m["nearest_top"][0], m["nearest_top_overlap"][0], int(m["top_max_overlap"][0])
    firsts = [int(np.flatnonzero(labels[test] == c)[0]) for c in range(N_CLASSES) if np.any(labels[test] == c)]
    picks = (firsts + [j for j in range(test.size) if j not in firsts])[:n_examples]
    fig, axes = plt.subplots(2, len(picks), figsize=(1.3 * len(picks) + 0.6, 3.6), squeeze=False)
    for col, j in enumerate(picks):
        a, b = int(test[j]), int(nearest[j])
        axes[0, col].imshow(images[a], cmap="gray_r")
        axes[0, col].set_title(f"test: {labels[a]}", fontsize=9)
        axes[1, col].imshow(images[b], cmap="Greens" if labels[a] == labels[b] else "Reds")
        axes[1, col].set_xlabel(f"{labels[b]}, {overlap[j]}/{top}", fontsize=9)
        for ax in axes[:, col]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[1, 0].set_ylabel("nearest\nstored", fontsize=9)
    fig.suptitle(f"nearest of {int(res.trials[trial_index].attrs['n_train'])} stored training digits by top-level "
                 "code overlap (label, CMs shared / top-level CMs; green: same class, red: another)", fontsize=9)
    return save(fig, path)
