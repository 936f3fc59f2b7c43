"""Build step: compress one data file with xz (LZMA2, preset 9), reproducibly (no timestamp in the
stream), for installation with the package. Usage: python compress_data.py SOURCE DESTINATION.xz"""

import lzma
import sys
from pathlib import Path

source, destination = Path(sys.argv[1]), Path(sys.argv[2])
destination.parent.mkdir(parents=True, exist_ok=True)
destination.write_bytes(lzma.compress(source.read_bytes(), format=lzma.FORMAT_XZ, preset=9))
