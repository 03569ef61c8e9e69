"""The peak memory of checking a ledger file: `python -m bench.check_memory FILE --county CODE`, in a process of its
own, with DATABASE_URL naming the benchmark database.

A check (the dry run an upload starts) reads every row of the file and holds what it needs to match them against
the ledger. The process's peak resident set size during the check (Linux's VmHWM, reset as the check starts: a
process started by a large one inherits its parent's peak in ru_maxrss), beside its size before it (Django
loaded, the database connected), is what a worker needs for that file. Printed as one line of JSON.
"""

import argparse
import json
import os
import resource
import sys
import time


def reset_peak() -> None:
    """Start this process's peak resident set size again from its present size (Linux 4.0 and later)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def peak_mb() -> float:
    """This process's peak resident set size since reset_peak, in MB; where /proc has none, since it started."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def measure(path: str, county) -> dict:
    """Check the file (a dry run, every check on) and the memory it took: {"before_mb", "peak_mb", ...}."""
    from students.importing import import_ledger

    reset_peak()
    before = peak_mb()
    started = time.perf_counter()
    result = import_ledger(path, county=county, dry_run=True)
    return {
        "before_mb": round(before, 1),
        "peak_mb": round(peak_mb(), 1),
        "seconds": round(time.perf_counter() - started, 2),
        "rows": result.rows,
        "problems": len(result.problems),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.check_memory")
    parser.add_argument("file")
    parser.add_argument("--county", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from counties.models import Division, Level

    county = Division.objects.get(code=args.county, level=Level.COUNTY)
    print(json.dumps(measure(args.file, county)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
