"""`make bench`: the product measured at national scale, each figure beside a baseline from the same run.

Run `python -m bench [--scale small] [--rebuild] [--only GROUP ...]`. See the README's Benchmark section.
"""
