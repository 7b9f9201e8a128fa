"""The worklist's progress bar (rich): buckets done, patients written, rate and time left."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class Bar:
    """Called by the engine with (buckets done, buckets in all); told by the writer of each patient."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task = progress.add_task("buckets", total=None, patients=0) if progress else None
        self.patients = 0

    def __call__(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total)

    def advance_patients(self, count: int) -> None:
        self.patients += count
        if self._progress is not None and self.patients % 500 == 0:
            self._progress.update(self._task, patients=self.patients)


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Bar]:
    if quiet:
        yield Bar(None)
        return
    columns = (TextColumn("worklist"), BarColumn(), MofNCompleteColumn(), TextColumn("buckets ·"),
               TextColumn("{task.fields[patients]} patients"), TimeElapsedColumn(), TextColumn("left"),
               TimeRemainingColumn())
    with Progress(*columns, transient=False) as progress:
        bar = Bar(progress)
        yield bar
        progress.update(bar._task, patients=bar.patients)
