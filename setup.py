"""The one compiled part: the COPY text of staged records (sparkify/staging/copytext/).

Optional: without a C compiler the install goes on, and the Python code builds every row
(the same bytes, a few microseconds more per event; `make bench` says which one ran).
"""

from glob import glob

from setuptools import Extension, setup

setup(ext_modules=[Extension("sparkify.staging._copyrows", sorted(glob("sparkify/staging/copytext/*.c")),
                             depends=glob("sparkify/staging/copytext/*.h"), libraries=["m"],
                             optional=True)])
