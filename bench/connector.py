"""``python -m bench.connector FOLDER read --config ... --catalog ... [--state ...]``: the ``source-harvest``
entry point (:func:`source_harvest.run.run`) with the manifest and components.py taken from FOLDER (a variant
written by :mod:`bench.variant`) instead of the checkout."""

from __future__ import annotations

import sys
from pathlib import Path

import source_harvest.run as entry


def main(argv: list[str]) -> None:
    folder = Path(argv[0]).resolve()
    entry.connector_dir = lambda: folder
    sys.argv = [sys.argv[0], *argv[1:]]
    entry.run()


if __name__ == "__main__":
    main(sys.argv[1:])
