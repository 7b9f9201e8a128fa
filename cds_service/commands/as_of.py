"""`--as-of` for the commands that evaluate a record (call, explain, profile, serve).

The synthetic samples are written for one date (`as_of` in samples/index.yaml). A command that
evaluates a sample does so as of that date unless told otherwise, so the demo and the README give
the same cards on any day; any other record is evaluated as of the current date.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from cds_service.samples import is_sample_file, sample_set_as_of

TODAY = "today"  # --as-of today: the current date, even for a sample
SAMPLES = "samples"  # --as-of samples: the sample set's date, whatever the record


def as_of_value(value: str) -> date | str:
    """argparse type: a date (YYYY-MM-DD), 'today' or 'samples' (the sample set's date)."""
    word = value.strip().lower()
    if word == TODAY:
        return TODAY
    if word == SAMPLES:
        declared = sample_set_as_of()
        if declared is None:
            raise argparse.ArgumentTypeError("the sample set declares no as-of date (samples/index.yaml)")
        return declared
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD), 'today' or 'samples': {value!r}") from None


def add_as_of_option(parser: argparse.ArgumentParser, *aliases: str,
                     help: str = "evaluate as of this date: YYYY-MM-DD, 'today' or 'samples' (the sample "
                                 "set's date); default: a sample is evaluated as of the sample set's date, "
                                 "anything else as of today") -> None:
    parser.add_argument("--as-of", *aliases, dest="as_of", type=as_of_value, metavar="DATE", help=help)


def chosen_as_of(option: date | str | None, patient_file: str | Path | None) -> date | None:
    """The date to evaluate as of: the option's, else the sample set's when the patient's data is one
    of the samples, else None (the current date)."""
    if isinstance(option, date):
        return option
    if option == TODAY or patient_file is None:
        return None
    return sample_set_as_of() if is_sample_file(Path(patient_file)) else None
