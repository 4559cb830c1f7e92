"""The command line every doc generator of scripts/ shares: write the page, or --check that it is fresh."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable


def main(doc: Path, render: Callable[[], str], description: str, argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--check", action="store_true", help=f"exit 1 when {doc.name} is stale")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        fresh = doc.is_file() and doc.read_text(encoding="utf-8") == text
        print(f"{doc.name} is up to date" if fresh else f"{doc.name} is stale: run this script without --check")
        return 0 if fresh else 1
    doc.write_text(text, encoding="utf-8")
    print(f"wrote {doc}")
    return 0
