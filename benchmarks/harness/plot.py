"""The range-length plot: median seconds against months read, one line per contender, one panel per database.

Seconds are on a log scale (the contenders differ by orders of magnitude) and each contender keeps
its colour in every panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: database heading -> [(contender key, heading, [(months, median seconds)])]
Series = dict[str, list[tuple[str, str, list[tuple[int, float]]]]]


def plot_ranges(series: Series, path: Path, subtitle: str) -> str | None:
    """Write the PNG; None when written, else why not (matplotlib missing, nothing to plot)."""
    panels = {db: lines for db, lines in series.items() if any(points for _, _, points in lines)}
    if not panels:
        return "no range-length figures to plot"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]')"
    keys = list(dict.fromkeys(key for lines in panels.values() for key, _, _ in lines))
    palette = plt.get_cmap("tab10")
    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.8), squeeze=False)
    for axis, (db, lines) in zip(axes[0], panels.items()):
        for key, heading, points in lines:
            if points:
                months, seconds = zip(*sorted(points))
                axis.plot(months, seconds, marker="o", label=heading, color=palette(keys.index(key) % 10))
        axis.set_title(db)
        axis.set_yscale("log")
        axis.set_xlabel("months read (monthly split)")
        axis.set_ylabel("median seconds (log scale)")
        axis.set_xticks(_ticks(panels))
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(f"Time against range length ({subtitle})")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None


def _ticks(panels: Series) -> Sequence[int]:
    return sorted({m for lines in panels.values() for _, _, points in lines for m, _ in points})
