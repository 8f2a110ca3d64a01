/* sparkify.staging._copyrows: the compiled parts of staging (see copytext.h). */
#include "copytext.h"

static PyMethodDef methods[] = {
    {"format_rows", format_rows, METH_VARARGS,
     "format_rows(records, columns) -> bytes | None\n\n"
     "The COPY text of records msgspec decoded: `columns` is a sequence of (attribute, kind, "
     "nullable), kind 0 text, 1 integer, 2 float. None gives the records back to Python."},
    {"parse_lines", parse_lines, METH_VARARGS,
     "parse_lines(chunk, plan) -> (data, rows, line_breaks) | None\n\n"
     "The COPY text of a chunk of JSON lines, each one object of the plan's keys: `plan` is a "
     "tuple of (key, kind, nullable, values, max_bytes, low, high) per column. None gives the "
     "chunk back to Python."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_copyrows", "The compiled parts of staging.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__copyrows(void) {
    return PyModule_Create(&module);
}
