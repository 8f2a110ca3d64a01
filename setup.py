"""The one compiled part: COPY text of decoded staging records (sparkify/staging/_copyrows.c).

Optional: without a C compiler the install goes on, and the Python line function builds the
rows (the same bytes, about 2 us more per event; `make bench` says which one ran).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("sparkify.staging._copyrows", ["sparkify/staging/_copyrows.c"],
                             libraries=["m"], optional=True)])
