/* sparkify.staging._native: the compiled part of staging (see native.h and lines.c). */
#include "native.h"

static PyMethodDef methods[] = {
    {"parse_lines", parse_lines, METH_VARARGS,
     "parse_lines(chunk, plan, max_line_bytes) -> (data, rows, line_breaks, given_back)\n\n"
     "The COPY text of the lines of a chunk that are each one plain object of the plan's keys: "
     "`plan` is a tuple of (key, kind, nullable, values, max_bytes, low, high) per column. "
     "`given_back` lists (line index, offset in data) of every other non-blank line, for the "
     "caller to parse and put in at that offset."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", "The compiled part of staging.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    return PyModule_Create(&module);
}
