"""The side-by-side benchmark behind ``make bench`` (run as ``benchmarks/bench.py``).

In: command-line choices (rows, scale, repeat, which queries and contenders). Out: data made
once in the three databases, one child process per contender, a markdown report and a plot.
"""
