"""The one compiled part: staging's parser of plain JSON lines (sparkify/staging/native/).

Optional: without a C compiler the install goes on, and the reference parser reads every line
(the same rows, several times the CPU; `make bench` says which one ran).
"""

from glob import glob

from setuptools import Extension, setup

setup(ext_modules=[Extension("sparkify.staging._native", sorted(glob("sparkify/staging/native/*.c")),
                             depends=glob("sparkify/staging/native/*.h"), libraries=["m"],
                             optional=True)])
