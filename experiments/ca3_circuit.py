"""The CA3 memory's circuit diagram, drawn from the model's own Network (so it cannot drift).

Boxes are populations (with their size in n and m), arrows projections: black
excitatory, red inhibitory, blue dashed the two STDP-learned projections; labels
give weight (nA) / delay (ms) and the connector.
"""

from __future__ import annotations

from pathlib import Path

from neurosim.connectors import AllToAll, FromList, OneToOne
from neurosim.experiments import Outcome, engine
from neurosim.models.ca3 import build_network
from neurosim.plotting import pyplot, save

# population -> (x, y, size label)
LAYOUT = {
    "in_cue": (0.0, 3.0, "n"), "in_content": (0.0, 0.8, "m"),
    "cueCueRecall": (2.0, 3.0, "n"), "contCueRecall": (2.0, 0.8, "m"),
    "cueContRecall": (4.6, 3.0, "n"), "contCondInt": (3.4, -0.7, "1"),
    "contCond": (4.6, 0.8, "m"), "contContRecall": (6.4, 0.8, "m"),
    "mergeCue": (7.6, 3.0, "n"), "mergeCont": (8.2, 0.8, "m"), "output": (9.8, 1.9, "n + m"),
}
CURVE = {("cueCueRecall", "cueContRecall", "inhibitory"): -0.25, ("cueCueRecall", "contCueRecall"): 0.25,
         ("contContRecall", "cueContRecall"): 0.2, ("cueCueRecall", "mergeCue"): 0.3,
         ("contCueRecall", "mergeCont"): -0.35, ("cueCueRecall", "contCond"): 0.15}


def _connector(pr) -> str:
    c = pr.connector
    if isinstance(c, OneToOne):
        return "1:1"
    if isinstance(c, AllToAll):
        return "all" if c.allow_self_connections else "all-but-self"
    if isinstance(c, FromList):
        return "all-but-self" if "other" in pr.name else "list"
    return type(c).__name__


def draw(path: Path | str, n: int = 5, m: int = 10) -> Path:
    plt = pyplot()
    from matplotlib.patches import FancyBboxPatch


    net = build_network(n, m)
    fig, ax = plt.subplots(figsize=(13, 5.8))
    for name, (x, y, size) in LAYOUT.items():
        ax.add_patch(FancyBboxPatch((x - 0.62, y - 0.28), 1.24, 0.56, boxstyle="round,pad=0.02",
                                    fc="#f2f2f2" if name.startswith("in_") else "#dde8f5", ec="0.3"))
        ax.text(x, y + 0.06, name, ha="center", va="center", fontsize=8.5, weight="bold")
        ax.text(x, y - 0.15, f"size {size}", ha="center", va="center", fontsize=7, color="0.35")
    for pr in net.projections:
        if pr.pre == pr.post:
            x, y, _ = LAYOUT[pr.pre]
            ax.annotate("", xy=(x + 0.45, y + 0.28), xytext=(x - 0.45, y + 0.28),
                        arrowprops={"arrowstyle": "-[", "color": "#c0392b", "connectionstyle": "arc3,rad=-0.9"})
            ax.text(x, y + 0.78, f"{pr.weight_nA:g}/{pr.delay_steps} {_connector(pr)}", ha="center", fontsize=7,
                    color="#c0392b")
            continue
        (x0, y0, _), (x1, y1, _) = LAYOUT[pr.pre], LAYOUT[pr.post]
        inh = pr.receptor == "inhibitory"
        learned = pr.plasticity is not None
        color = "#c0392b" if inh else ("#1f5fbf" if learned else "0.15")
        rad = CURVE.get((pr.pre, pr.post, pr.receptor), CURVE.get((pr.pre, pr.post), 0.0))
        if (pr.pre, pr.post) == ("cueCueRecall", "cueContRecall") and not inh:
            rad = 0.12
        ax.annotate("", xy=(x1 - 0.62 if x1 > x0 else x1 + 0.62, y1), xytext=(x0 + 0.62 if x1 > x0 else x0 - 0.62, y0),
                    arrowprops={"arrowstyle": "-[" if inh else "-|>", "color": color, "lw": 2.0 if learned else 1.1,
                                "ls": "--" if learned else "-", "connectionstyle": f"arc3,rad={rad}",
                                "shrinkA": 2, "shrinkB": 2})
        label = "STDP 0..6" if learned else f"{pr.weight_nA:g}"
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2 - rad * abs(x1 - x0) * 0.45
        ax.text(mx, my + 0.08, f"{label}/{pr.delay_steps} {_connector(pr)}", ha="center", fontsize=6.8, color=color,
                bbox={"fc": "white", "ec": "none", "pad": 0.3, "alpha": 0.8})
    ax.set_xlim(-0.9, 10.7)
    ax.set_ylim(-1.2, 4.2)
    ax.axis("off")
    ax.set_title(f"CA3 content-addressable memory (drawn from models.ca3.build_network; labels: weight nA / delay ms, "
                 f"connector; here n = {n}, m = {m}: inhibition 6m = {6 * m} nA)", fontsize=9)
    return save(fig, path)


def run(*, backend: str | None = None, device: str | None = None, seed: int = 0,
        out: Path | str = "results/ca3-circuit.h5", resume: bool = False, progress: bool = False) -> Outcome:  # noqa: ARG001
    """Draws the circuit from the model's Network: it runs no engine (``backend`` and ``device`` stay None)."""
    engine("ca3-circuit", backend, device)
    path = draw(Path(out).with_suffix(".png"))
    return Outcome(title="CA3 circuit diagram", columns=["figure"], rows=[[str(path)]], files=[path])
