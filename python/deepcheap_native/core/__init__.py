"""What every area uses and no area owns: validation (``validate``, ``arrays``, ``memory``), devices
(``cuda``), random streams (``random``), torch-op plumbing (``torch_ops``, imported only with torch) and
the scale-out clients (``scaleout``). Nothing here imports an area (tests/test_package.py checks it).
"""
