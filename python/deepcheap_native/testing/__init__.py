"""Reference implementations the package is measured against: numpy peers of the native kernels
(``testing/peers.py``). The report's performance section and the benchmarks in ``benchmarks/`` both
use them, so they live in the package (the report is part of it) rather than in ``benchmarks/``.
"""
