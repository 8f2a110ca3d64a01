/* The compiled part of staging (sparkify.staging._native): a growing byte buffer and the
 * writers of PostgreSQL COPY text values, each written as the reference writes it
 * (sparkify/staging/values.py).
 *
 * Every writer returns 1 when it wrote, 0 when the value is not its to write (the caller gives
 * the line back to the reference, which raises the exact error), -1 out of memory.
 */
#ifndef SPARKIFY_NATIVE_H
#define SPARKIFY_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

enum { KIND_TEXT = 0, KIND_INT = 1, KIND_FLOAT = 2 };

/* Grown with PyMem_Raw*, so that it can be written without the GIL; on a failed growth the
 * writers return -1 and `out_of_memory` is set, for the caller to raise once it holds the GIL. */
typedef struct {
    char *data;
    size_t size;
    size_t capacity;
    int out_of_memory;
} Buffer;

int buffer_grow(Buffer *buffer, size_t more);
/* Buffer's result as bytes (NULL with MemoryError raised) or None for `done` 0, and frees it. */
PyObject *buffer_result(Buffer *buffer, int done);

static inline int reserve(Buffer *buffer, size_t more) {
    return buffer->size + more <= buffer->capacity ? 0 : buffer_grow(buffer, more);
}

static inline int put(Buffer *buffer, const char *bytes, size_t size) {
    if (size == 0) {  /* memcpy may not be handed NULL, as an empty buffer's data is */
        return 0;
    }
    if (reserve(buffer, size) < 0) {
        return -1;
    }
    memcpy(buffer->data + buffer->size, bytes, size);
    buffer->size += size;
    return 0;
}

/* str(int) */
int put_int64(Buffer *buffer, long long number);
/* repr(float); `released`, when not NULL, is the thread state of a caller that let go of the
 * GIL, retaken for the rare value only CPython's dtoa writes */
int put_double(Buffer *buffer, double number, PyThreadState **released);
/* UTF-8 text with COPY's four escapes (backslash, tab, newline, CR); 0 for a NUL */
int put_escaped(Buffer *buffer, const char *text, size_t size);

PyObject *parse_lines(PyObject *module, PyObject *args);

#endif
