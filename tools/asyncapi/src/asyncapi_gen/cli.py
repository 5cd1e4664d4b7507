"""`switchboard-asyncapi`: write the document into `contracts`, or `--check` that it is current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import contracts
from asyncapi_gen.document import render
from contracts.asyncapi import DOCUMENT

TARGET = Path(contracts.__file__).resolve().parent / DOCUMENT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchboard-asyncapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"default: {TARGET}")
    args = parser.parse_args(argv)
    document = render()
    current = args.output.read_bytes() if args.output.exists() else b""
    if args.check:
        if current != document:
            print(f"{args.output} is out of date: run `make asyncapi`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    if current != document:
        args.output.write_bytes(document)
    print(f"wrote {args.output}" if current != document else f"{args.output} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
