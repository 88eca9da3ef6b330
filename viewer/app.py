"""``neurosim view``: open the live or the replay window (and, for docs, save a screenshot)."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time


def run(args: argparse.Namespace) -> int:
    """The ``view`` command: ``args.file`` (replay) or ``args.live`` (a session name)."""
    if (args.file is None) == (args.live is None):
        raise ValueError("view needs a results FILE or --live NAME (one of them, not both)")
    if not (math.isfinite(args.fps) and 0.1 <= args.fps <= 240):
        raise ValueError(f"--fps = {args.fps} is not allowed: redraws per second in [0.1, 240]")
    if args.after is not None and not (math.isfinite(args.after) and 0 <= args.after <= 86_400):
        raise ValueError(f"--after = {args.after} is not allowed: seconds in [0, 86400]")
    if args.seed < 0:
        raise ValueError(f"--seed = {args.seed} is not allowed: an integer >= 0")
    if args.live is not None and args.backend == "brian2":
        raise ValueError("--backend = 'brian2' is not allowed live: it takes about 0.2 s per one-tick chunk "
                         "(reference, numba or torch)")
    if args.neurons is not None and args.neurons < 10:
        raise ValueError(f"--neurons = {args.neurons} is not allowed: an integer >= 10")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        if not args.screenshot:
            raise ValueError("view needs a display: none is set (DISPLAY, WAYLAND_DISPLAY); on a machine without one, "
                             "--screenshot PNG draws the window offscreen")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        from neurosim.viewer.qt import application
    except ImportError as exc:
        print(f"error: the viewer needs PySide6 and pyqtgraph (pip install 'neurosim[viewer]'): {exc}",
              file=sys.stderr)
        return 2
    from neurosim.viewer.qt import QtCore
    from neurosim.viewer.window import LiveWindow, ReplayWindow, screenshot

    app = application()
    if args.live is not None:
        from neurosim.viewer import sessions

        if args.live not in sessions.NAMES:
            raise ValueError(f"--live = {args.live!r} is not allowed: one of {list(sessions.NAMES)}")
        options = {}
        if args.neurons is not None:
            if args.live != "core":
                raise ValueError(f"--neurons is not allowed for --live {args.live}: only for core")
            options["core"] = {"n": args.neurons}
        classical = {"hopfield": {"model": "hopfield"}, "sparsey": {"model": "sparsey", "keep": sessions.SPARSEY_KEEP}}
        if args.classical:
            if args.live not in classical:
                allowed = " and ".join(classical)
                raise ValueError(f"--classical is not allowed for --live {args.live}: only for {allowed}")
            options[args.live] = classical[args.live]
        if args.keep is not None:
            if args.live != "sparsey":
                raise ValueError(f"--keep is not allowed for --live {args.live}: only for sparsey")
            if args.keep < 0:
                raise ValueError(f"--keep = {args.keep} is not allowed: an integer >= 0 (0: keep every item)")
            options["sparsey"] = {**options.get("sparsey", {}), "keep": args.keep or None}
        from neurosim.viewer.window import SPEEDS

        speed = "default"
        if args.speed is not None:
            allowed = {f"{v:g}": v for v in SPEEDS if v is not None} | {"max": None}
            if args.speed not in allowed:
                raise ValueError(f"--speed = {args.speed!r} is not allowed: one of {', '.join(allowed)}")
            speed = allowed[args.speed]
        window = LiveWindow(args.live, backend=args.backend, seed=args.seed, fps=args.fps, speed=speed,
                            options=options)
    else:
        try:
            window = ReplayWindow(args.file, fps=args.fps)
        except FileNotFoundError as exc:
            raise ValueError(f"FILE = {args.file!r} is not allowed: {exc}") from exc
        except OSError as exc:  # h5py: not an HDF5 file, or a damaged one (read_results names those itself)
            raise ValueError(f"FILE = {args.file!r} is not allowed: not a readable HDF5 file ({exc})") from exc
    window.show()
    if args.screenshot is None and args.after is None:
        return int(app.exec())
    # a scripted run: the real event loop for --after seconds, then the screenshot and a summary
    outcome = {}

    def finish() -> None:
        if args.screenshot:
            outcome["path"] = screenshot(window, args.screenshot)
        outcome["summary"] = summary(window, time.monotonic() - started)
        window.close()
        app.quit()

    started = time.monotonic()
    QtCore.QTimer.singleShot(round(1000 * (args.after if args.after is not None else 5.0)), finish)
    app.exec()
    if "path" in outcome:
        print(f"wrote {outcome['path']}")
    print(outcome["summary"])
    return 0


def summary(window, seconds: float) -> str:
    """One line on what a scripted live run drew: redraws per second, frames, model time."""
    from neurosim.viewer.window import LiveWindow

    if not isinstance(window, LiveWindow) or window.panels is None:
        return f"shown for {seconds:.1f} s"
    raster = window.panels.raster
    unit = window.session.time_unit if window.session is not None else ""
    return (f"{window.frames_drawn} redraws in {seconds:.1f} s ({window.frames_drawn / seconds:.1f}/s), "
            f"{window.frames_received} frames, model time {(raster.head + 1) * raster.bin:g} {unit}")
