"""Reference implementations and measurements the package is judged by: numpy peers of the native
kernels (``testing/peers.py``), the timing helper (``testing/timing.py``) and the measured roofline
(``testing/roofline.py``: each hot path's rate beside the limit the machine sets it). The report, the
`deepcheap bench` command and the scripts in ``benchmarks/`` all use them, so they live in the package
(the report is part of it) rather than in ``benchmarks/``.
"""
