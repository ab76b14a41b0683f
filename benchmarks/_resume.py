"""Resumable benchmark runs: every finished job is one JSON line of a file."""

import json
from pathlib import Path


def load_records(out):
    """The records already in ``out`` (a .jsonl path), [] when it is new."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []


def append_records(out, results, records, describe):
    """Append each record of the iterable ``results`` to ``out`` as it comes
    (a stopped run resumes where it stopped) and to ``records``; print
    ``describe(record)``."""
    with Path(out).open("a") as fh:
        for rec in results:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            records.append(rec)
            print(describe(rec), flush=True)
