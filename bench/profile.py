"""Where a page's time goes: a cProfile of one request and EXPLAIN ANALYZE of its slowest query.

    DATABASE_URL=<a benchmark database> python -m bench.profile PATH [--as ROLE] [--top N]

For a figure that misses its target: run it against the benchmark database the figure came from.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("path", help="the page, e.g. /national/ or '/cases/?reason=poverty&page=20'")
    parser.add_argument("--as", dest="role", default="ministry", help="the demo user's role (default ministry)")
    parser.add_argument("--top", type=int, default=25, help="how many functions to show")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from . import personas

    user = personas.administrator() if args.role == "admin" else personas.persona(args.role)
    client = Client()
    client.force_login(user)
    for _ in range(3):
        client.get(args.path)
    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profiler.enable()
        response = client.get(args.path)
        profiler.disable()
    print(f"GET {args.path} as {user.username}: {response.status_code}, {len(queries)} queries")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    timed = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)
    for query in timed[:5]:
        print(f"{float(query['time']) * 1000:8.1f} ms  {query['sql'][:300]}")
    if timed and timed[0]["sql"].lstrip().upper().startswith("SELECT"):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + timed[0]["sql"])
            print("\nEXPLAIN ANALYZE of the slowest query:")
            print("\n".join(row[0] for row in cursor.fetchall()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
