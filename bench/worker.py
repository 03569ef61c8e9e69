"""Runs one group of measurements inside a Django process bound to one benchmark database.

`python -m bench.worker GROUP --out FILE [--options JSON]`, with DATABASE_URL naming the database.
The orchestrator (`python -m bench`) starts one worker per group and ledger, so that every ledger is
measured by a process that has only ever seen that database (no cache carries over between them).
"""

import argparse
import importlib
import json
import os
import sys

from bench import progress

GROUPS = {
    "pages": "bench.pages",
    "totals": "bench.totals",
    "import": "bench.importing",
    "visits": "bench.visits",
    "verify": "bench.verification",
    "load": "bench.soak",
    "rosters": "bench.rosters",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("group", choices=sorted(GROUPS))
    parser.add_argument("--out", required=True)
    parser.add_argument("--options", default="{}")
    args = parser.parse_args(argv)
    progress.save_to(args.out)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    module = importlib.import_module(GROUPS[args.group])
    progress.checkpoint(module.collect(json.loads(args.options)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
