/* COPY text of single values: integers, floats (as repr), escaped text. */
#include "native.h"

#include <math.h>

int buffer_grow(Buffer *buffer, size_t more) {
    size_t capacity = buffer->capacity ? buffer->capacity : 1 << 16;
    while (capacity < buffer->size + more) {
        capacity *= 2;
    }
    char *data = PyMem_RawRealloc(buffer->data, capacity);
    if (data == NULL) {
        buffer->out_of_memory = 1;
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

PyObject *buffer_result(Buffer *buffer, int done) {
    PyObject *result = NULL;
    if (buffer->out_of_memory) {
        PyErr_NoMemory();
    } else if (done == 1) {
        result = PyBytes_FromStringAndSize(buffer->data ? buffer->data : "", buffer->size);
    } else if (done == 0) {
        result = Py_NewRef(Py_None);
    }
    PyMem_RawFree(buffer->data);
    buffer->data = NULL;
    return result;
}

/* The digits of `magnitude` (at least `width` of them, zero-padded), ending at `end`;
 * returns where they start. */
static char *digits_before(char *end, unsigned long long magnitude, int width) {
    char *start = end;
    do {
        *--start = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude || end - start < width);
    return start;
}

int put_int64(Buffer *buffer, long long number) {
    char text[24];
    char *end = text + sizeof text;
    unsigned long long magnitude = number < 0 ? 0ULL - (unsigned long long)number
                                              : (unsigned long long)number;
    char *start = digits_before(end, magnitude, 1);
    if (number < 0) {
        *--start = '-';
    }
    return put(buffer, start, end - start) < 0 ? -1 : 1;
}

static const double POWERS_OF_TEN[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                       1e11, 1e12, 1e13, 1e14, 1e15};

/* repr(float) for most values without dtoa's big-number arithmetic: the fewest decimals k whose
 * nearest k-place decimal r / 10^k converts back to the same double. Because r and 10^k are
 * exact doubles (r < 2^50) and IEEE division rounds correctly, that test is exactly what
 * reading the text back does; the first k that passes is the shortest text, and r, taken
 * only when well clear of a tie, the nearest of that length, which is what repr writes. 0 when
 * the value is left to PyOS_double_to_string (exponent notation, ties, 16 or more digits). */
static int put_double_fast(Buffer *buffer, double value) {
    double magnitude = fabs(value);
    if (!(magnitude >= 1e-4 && magnitude < 1e15)) {
        return 0;
    }
    for (int k = 0; k < 16; k++) {
        double scaled = magnitude * POWERS_OF_TEN[k];
        if (scaled >= 1125899906842624.0) {  /* 2^50 */
            return 0;
        }
        double nearest = nearbyint(scaled);
        if (fabs(scaled - nearest) > 0.25 || nearest / POWERS_OF_TEN[k] != magnitude) {
            continue;
        }
        unsigned long long r = (unsigned long long)nearest;
        unsigned long long scale = (unsigned long long)POWERS_OF_TEN[k];
        char text[48];
        char *end = text + sizeof text, *start;
        if (k == 0) {
            *--end = '0';
            *--end = '.';
            start = digits_before(end, r, 1);
        } else {
            start = digits_before(end, r % scale, k);
            *--start = '.';
            start = digits_before(start, r / scale, 1);
        }
        if (value < 0) {
            *--start = '-';
        }
        return put(buffer, start, (text + sizeof text) - start) < 0 ? -1 : 1;
    }
    return 0;
}

int put_double(Buffer *buffer, double number, PyThreadState **released) {
    int done = put_double_fast(buffer, number);
    if (done != 0) {
        return done;
    }
    if (released) {
        PyEval_RestoreThread(*released);
    }
    char *text = PyOS_double_to_string(number, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL) {
        PyErr_Clear();
        buffer->out_of_memory = 1;
        done = -1;
    } else {
        done = put(buffer, text, strlen(text)) < 0 ? -1 : 1;
        PyMem_Free(text);
    }
    if (released) {
        *released = PyEval_SaveThread();
    }
    return done;
}

int put_escaped(Buffer *buffer, const char *text, size_t size) {
    /* most texts hold nothing to escape: find the first byte that needs a look */
    size_t plain = 0;
    while (plain < size) {
        char c = text[plain];
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r' || c == '\0') {
            break;
        }
        plain++;
    }
    if (plain == size) {
        return put(buffer, text, size) < 0 ? -1 : 1;
    }
    if (reserve(buffer, 2 * size) < 0) {
        return -1;
    }
    char *out = buffer->data + buffer->size;
    memcpy(out, text, plain);
    out += plain;
    for (size_t i = plain; i < size; i++) {
        char c = text[i];
        switch (c) {
        case '\0': return 0;
        case '\\': *out++ = '\\'; *out++ = '\\'; break;
        case '\t': *out++ = '\\'; *out++ = 't'; break;
        case '\n': *out++ = '\\'; *out++ = 'n'; break;
        case '\r': *out++ = '\\'; *out++ = 'r'; break;
        default: *out++ = c;
        }
    }
    buffer->size = out - buffer->data;
    return 1;
}
