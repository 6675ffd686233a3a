"""Progress of a run: a live bar on a terminal, plain lines in a log.

Both count a model's groups of requests, shown as questions: a question with its protocols is
one unit in each option order and repetition it is asked in, and show each protocol's share of replies read. :func:`progress_for` picks the bar when
the console is a terminal and :class:`LogProgress` otherwise: a line every ``interval``
seconds and one when a model is done, so that a run piped to a file says what it is doing,
with the model's ETA and one for the whole study (the later models at their endpoints' limits
or an earlier sitting's rate where known, else at the current model's rate, and it says so).
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

LOG_INTERVAL_S = 30.0


def parse_text(read: dict[str, list[int]]) -> str:
    """Each protocol's share of replies read so far: "stated 98% p-true 100%"."""
    return " ".join(f"{name} {parsed / tried:.0%}" for name, (parsed, tried) in read.items() if tried)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class LogProgress:
    """The part of rich's Progress that the runner uses, printing plain lines instead of a bar."""

    def __init__(self, console: Console, *, later: list[tuple[int, float | None]] = (), interval: float = LOG_INTERVAL_S,
                 clock=time.monotonic):
        # ``later``: per model still to come, its questions left and its minutes where known
        self.console, self.later, self.interval, self.clock = console, list(later), interval, clock
        self.tasks: dict[int, dict] = {}

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc) -> None:
        for task in self.tasks.values():
            if not task["said_done"]:
                self._say(task)

    def add_task(self, description: str, *, total: int, completed: int = 0, **fields) -> int:
        now = self.clock()
        key = len(self.tasks)
        self.tasks[key] = {"description": description, "total": total, "completed": completed, "start": completed,
                           "started": now, "said": now, "said_done": False, **fields}
        return key

    def update(self, key: int, *, advance: int = 0, **fields) -> None:
        task = self.tasks[key]
        task["completed"] += advance
        task.update(fields)
        if task["completed"] >= task["total"] or self.clock() - task["said"] >= self.interval:
            self._say(task)

    def _say(self, task: dict) -> None:
        now = self.clock()
        task["said"] = now
        done, total = task["completed"], task["total"]
        task["said_done"] = done >= total
        asked = done - task["start"]
        elapsed = max(now - task["started"], 1e-9)
        rate = asked / elapsed
        eta = f", ETA {_duration((total - done) / rate)}" if rate > 0 and done < total else ""
        failed = task.get("failed", 0)
        parts = [f"{task['description']}: {done}/{total} questions", f"{failed} request(s) failed" if failed else "",
                 f"{rate:.2f} q/s{eta}", task.get("parse", "")]
        if self.later and rate > 0:
            left = (total - done) / rate + sum(minutes * 60 if minutes is not None else n / rate for n, minutes in self.later)
            assumed = " (later models at this one's rate)" if any(minutes is None for _, minutes in self.later) else ""
            parts.append(f"all {len(self.later) + 1} models left: ETA {_duration(left)}{assumed}")
        self.console.print(" · ".join(p for p in parts if p), highlight=False, soft_wrap=True)


def progress_for(console: Console, *, later: list[tuple[int, float | None]] = ()) -> Progress | LogProgress:
    """A live bar on a terminal, plain lines (``LogProgress``, told what ``later`` models have left) anywhere else."""
    if not console.is_terminal:
        return LogProgress(console, later=later)
    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[parse]}"),
        TextColumn("{task.fields[speed]:>9}"),
        TimeRemainingColumn(),
        console=console,
    )
