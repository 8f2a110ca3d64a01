/* parse_lines: the lines of a chunk straight to COPY text, for the plain case only: a line that is
 * one JSON object whose keys are all mapped to columns, once each, with values of the columns'
 * own types that pass their rules. Any other line (an unknown or repeated key, an escaped key,
 * a nested value, true/false, an exponent, a NUL, invalid UTF-8, a value out of its rule, two
 * objects on a line, a line longer than the limit) is given back: its index and the place its
 * rows go in the output, for the reference parser (sparkify/staging/lines.py), which gives its
 * exact rows or error. So every row this writes is the row the reference would write, byte for
 * byte, and a line this takes is flat: no depth to check. Blank lines (spaces, tabs, CR) give
 * no row, as in the reference.
 *
 * The chunk is parsed without the GIL (the caller feeds the previous chunk to PostgreSQL
 * meanwhile); it is taken back only for a float that CPython's dtoa must write.
 */
#define _GNU_SOURCE
#include "native.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
    const char *key;
    Py_ssize_t key_size;
    int kind;
    int nullable;
    Py_ssize_t value_count; /* the texts allowed (as COPY text), or -1 for any */
    const char **value_text;
    Py_ssize_t *value_size;
    Py_ssize_t max_bytes; /* of the decoded UTF-8 text, or -1 */
    long long low, high;  /* an integer column's range, both included */
} Target;

typedef struct {
    size_t start, size;
    int present;
} Slot;

static inline const char *skip_space(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
        p++;
    }
    return p;
}

static int hex4(const char *p, const char *end, unsigned *value) {
    if (end - p < 4) {
        return 0;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *value = v;
    return 1;
}

/* The length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static int utf8_length(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    int n;
    unsigned char low = 0x80, high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) low = 0xA0;
        if (c == 0xED) high = 0x9F;  /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) low = 0x90;
        if (c == 0xF4) high = 0x8F;
    } else return 0;
    if (end - p < n || p[1] < low || p[1] > high) {
        return 0;
    }
    for (int i = 2; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* A decoded code point, as COPY text: UTF-8, with COPY's escapes for \t \n \r and \\. */
static int put_code_point(Buffer *out, unsigned cp) {
    char bytes[4];
    size_t n;
    switch (cp) {
    case 0: return 0;
    case '\t': return put(out, "\\t", 2) < 0 ? -1 : 1;
    case '\n': return put(out, "\\n", 2) < 0 ? -1 : 1;
    case '\r': return put(out, "\\r", 2) < 0 ? -1 : 1;
    case '\\': return put(out, "\\\\", 2) < 0 ? -1 : 1;
    }
    if (cp < 0x80) { bytes[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { bytes[0] = (char)(0xC0 | cp >> 6); bytes[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        bytes[0] = (char)(0xE0 | cp >> 12); bytes[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        bytes[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        bytes[0] = (char)(0xF0 | cp >> 18); bytes[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        bytes[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); bytes[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    return put(out, bytes, n) < 0 ? -1 : 1;
}

/* The JSON string whose content starts at p, written to `out` as COPY text; `decoded` gets its
 * size in UTF-8 bytes. Returns the position after the closing quote, NULL to give up, or
 * `end + 1` when out of memory. */
static const char *parse_string(const char *p, const char *end, Buffer *out, size_t *decoded) {
    size_t size = 0;
    while (p < end) {
        const char *run = p;
        while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\' &&
               (unsigned char)*p < 0x80) {
            p++;
        }
        if (p > run) {  /* printable ASCII: nothing COPY needs escaped */
            if (put(out, run, p - run) < 0) return end + 1;
            size += p - run;
        }
        if (p >= end) return NULL;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *decoded = size;
            return p + 1;
        }
        if (c >= 0x80) {
            int n = utf8_length((const unsigned char *)p, (const unsigned char *)end);
            if (n == 0) return NULL;
            if (put(out, p, n) < 0) return end + 1;
            size += n;
            p += n;
            continue;
        }
        if (c != '\\' || p + 1 >= end) return NULL;  /* a raw control character */
        char e = p[1];
        p += 2;
        unsigned cp;
        switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (!hex4(p, end, &cp)) return NULL;
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return NULL;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned low;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, end, &low) ||
                    low < 0xDC00 || low > 0xDFFF) {
                    return NULL;
                }
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            break;
        default: return NULL;
        }
        int done = put_code_point(out, cp);
        if (done < 0) return end + 1;
        if (done == 0) return NULL;
        size += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }
    return NULL;
}

/* A JSON number at p: its end, or NULL when it is not one this path takes (an exponent, or
 * a fraction where `integer` is asked). */
static const char *scan_number(const char *p, const char *end, int integer) {
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') return NULL;
    if (*p == '0') p++;
    else while (p < end && *p >= '0' && *p <= '9') p++;
    if (p < end && *p == '.') {
        if (integer) return NULL;
        p++;
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == digits) return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) return NULL;
    return p;
}

static locale_t c_numbers;  /* strtod_l in the C locale: '.' whatever the process's locale */

/* 1 written, 0 give up, -1 out of memory */
static int put_number(Buffer *out, const Target *target, const char *p, const char *stop,
                      PyThreadState **released) {
    if (target->kind == KIND_INT) {
        int negative = *p == '-';
        const char *digit = p + negative;
        if (stop - digit > 19) return 0;
        unsigned long long magnitude = 0;
        for (; digit < stop; digit++) {
            magnitude = magnitude * 10 + (unsigned)(*digit - '0');
        }
        if (magnitude > (negative ? 9223372036854775808ULL : 9223372036854775807ULL)) return 0;
        long long number = negative ? (long long)(0ULL - magnitude) : (long long)magnitude;
        if (number < target->low || number > target->high) return 0;
        return put_int64(out, number);
    }
    char text[48];
    if (stop - p >= (Py_ssize_t)sizeof text) return 0;
    memcpy(text, p, stop - p);
    text[stop - p] = '\0';
    char *parsed;
    double number = strtod_l(text, &parsed, c_numbers);  /* glibc's rounds correctly */
    if (parsed != text + (stop - p) || isinf(number)) return 0;
    if (number == 0 && memchr(text, '.', stop - p) == NULL) {
        number = 0.0;  /* the integer -0 is 0, and float(0) has no sign */
    }
    return put_double(out, number, released);
}

static int in_values(const Target *target, const char *text, size_t size) {
    for (Py_ssize_t i = 0; i < target->value_count; i++) {
        if ((size_t)target->value_size[i] == size &&
            (size == 0 || memcmp(target->value_text[i], text, size) == 0)) {
            return 1;
        }
    }
    return 0;
}

static Py_ssize_t find_target(const Target *targets, Py_ssize_t count, Py_ssize_t guess,
                              const char *key, size_t size) {
    for (Py_ssize_t n = 0; n < count; n++) {
        Py_ssize_t i = (guess + n) % count;
        if ((size_t)targets[i].key_size == size && memcmp(targets[i].key, key, size) == 0) {
            return i;
        }
    }
    return -1;
}

/* One line's object into `values` (each column's COPY text, noted in `slots`); 1, 0 give up,
 * -1 out of memory. */
static int parse_object(const char *p, const char *end, const Target *targets, Py_ssize_t count,
                        Slot *slots, Buffer *values, PyThreadState **released) {
    memset(slots, 0, count * sizeof(Slot));
    values->size = 0;
    p = skip_space(p, end);
    if (p >= end || *p != '{') return 0;
    p = skip_space(p + 1, end);
    Py_ssize_t guess = 0;
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= end || *p != '"') return 0;
            const char *key = ++p;
            while (p < end && *p != '"' && *p != '\\') p++;
            if (p >= end || *p == '\\') return 0;
            Py_ssize_t i = find_target(targets, count, guess, key, p - key);
            if (i < 0 || slots[i].present) return 0;
            guess = i + 1;
            p = skip_space(p + 1, end);
            if (p >= end || *p != ':') return 0;
            p = skip_space(p + 1, end);
            if (p >= end) return 0;
            const Target *target = &targets[i];
            Slot *slot = &slots[i];
            slot->start = values->size;
            slot->present = 1;
            if (*p == '"') {
                size_t decoded;
                if (target->kind != KIND_TEXT) return 0;
                const char *after = parse_string(p + 1, end, values, &decoded);
                if (after == NULL) return 0;
                if (after == end + 1) return -1;
                p = after;
                slot->size = values->size - slot->start;
                if (target->max_bytes >= 0 && decoded > (size_t)target->max_bytes) return 0;
                if (target->value_count >= 0 &&
                    !in_values(target, values->data + slot->start, slot->size)) {
                    return 0;
                }
            } else if (*p == 'n') {
                if (end - p < 4 || memcmp(p, "null", 4) != 0 || !target->nullable) return 0;
                p += 4;
                if (put(values, "\\N", 2) < 0) return -1;
                slot->size = 2;
            } else {
                if (target->kind == KIND_TEXT) return 0;
                const char *stop = scan_number(p, end, target->kind == KIND_INT);
                if (stop == NULL) return 0;
                int done = put_number(values, target, p, stop, released);
                if (done <= 0) return done;
                p = stop;
                slot->size = values->size - slot->start;
            }
            p = skip_space(p, end);
            if (p < end && *p == ',') {
                p = skip_space(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return 0;
        }
    }
    return skip_space(p, end) == end;
}

static int put_line(Buffer *out, const Target *targets, Py_ssize_t count, const Slot *slots,
                    const Buffer *values) {
    for (Py_ssize_t i = 0; i < count; i++) {
        if (slots[i].present) {
            if (put(out, values->data + slots[i].start, slots[i].size) < 0) return -1;
        } else if (!targets[i].nullable) {
            return 0;
        } else if (put(out, "\\N", 2) < 0) {
            return -1;
        }
        if (put(out, i + 1 < count ? "\t" : "\n", 1) < 0) return -1;
    }
    return 1;
}

static void free_targets(Target *targets, Py_ssize_t count) {
    for (Py_ssize_t i = 0; targets && i < count; i++) {
        PyMem_Free(targets[i].value_text);
        PyMem_Free(targets[i].value_size);
    }
    PyMem_Free(targets);
}

/* The plan as C arrays, read with the GIL (the plan's objects outlive the call). */
static int read_target(PyObject *spec, Target *t) {
    PyObject *values;
    if (!PyArg_ParseTuple(spec, "y#ipOnLL;a column's plan is (key, kind, nullable, values, "
                          "max_bytes, low, high)", &t->key, &t->key_size, &t->kind, &t->nullable,
                          &values, &t->max_bytes, &t->low, &t->high)) {
        return -1;
    }
    t->value_count = -1;
    if (values == Py_None) {
        return 0;
    }
    if (!PyTuple_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "a column's values must be a tuple of bytes or None");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(values);
    t->value_text = PyMem_Calloc(n ? n : 1, sizeof(char *));
    t->value_size = PyMem_Calloc(n ? n : 1, sizeof(Py_ssize_t));
    if (!t->value_text || !t->value_size) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        char *text;
        if (PyBytes_AsStringAndSize(PyTuple_GET_ITEM(values, i), &text, &t->value_size[i]) < 0) {
            return -1;
        }
        t->value_text[i] = text;
    }
    t->value_count = n;
    return 0;
}

static Py_ssize_t read_targets(PyObject *plan, Target **targets) {
    Py_ssize_t count = PyTuple_Check(plan) ? PyTuple_GET_SIZE(plan) : -1;
    if (count < 0) {
        PyErr_SetString(PyExc_TypeError, "plan must be a tuple");
        return -1;
    }
    *targets = PyMem_Calloc(count ? count : 1, sizeof(Target));
    if (*targets == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (read_target(PyTuple_GET_ITEM(plan, i), &(*targets)[i]) < 0) {
            return -1;
        }
    }
    return count;
}

typedef struct {
    Py_ssize_t *pairs;  /* (line index, output offset) of each line given back */
    Py_ssize_t count, capacity;
} GivenBack;

static int give_back(GivenBack *back, Py_ssize_t line, size_t offset) {
    if (back->count == back->capacity) {
        Py_ssize_t capacity = back->capacity ? back->capacity * 2 : 64;
        Py_ssize_t *pairs = PyMem_RawRealloc(back->pairs, capacity * 2 * sizeof(Py_ssize_t));
        if (pairs == NULL) return -1;
        back->pairs = pairs;
        back->capacity = capacity;
    }
    back->pairs[2 * back->count] = line;
    back->pairs[2 * back->count + 1] = (Py_ssize_t)offset;
    back->count++;
    return 0;
}

/* 1 done, -1 out of memory; counts rows and line breaks, and notes the lines given back. */
static int parse_chunk(const char *p, const char *end, const Target *targets, Py_ssize_t count,
                       Py_ssize_t max_line_bytes, Slot *slots, Buffer *out, GivenBack *back,
                       Py_ssize_t *rows, Py_ssize_t *breaks, PyThreadState **released) {
    Buffer values = {NULL, 0, 0, 0};
    int ok = 1;
    for (Py_ssize_t line = 0; p < end && ok >= 0; line++) {
        const char *newline = memchr(p, '\n', end - p);
        const char *stop = newline ? newline : end;
        size_t before = out->size;
        if (skip_space(p, stop) == stop) {
            ok = 1;  /* a blank line */
        } else {
            ok = stop - p > max_line_bytes ? 0
                 : parse_object(p, stop, targets, count, slots, &values, released);
            if (ok == 1) ok = put_line(out, targets, count, slots, &values);
            if (ok == 1) {
                *rows += 1;
            } else if (ok == 0) {
                out->size = before;  /* a line put_line left half written */
                if (give_back(back, line, before) < 0) ok = -1;
            }
        }
        *breaks += newline != NULL;
        p = newline ? newline + 1 : end;
    }
    out->out_of_memory |= values.out_of_memory || ok < 0;
    PyMem_RawFree(values.data);
    return ok < 0 ? -1 : 1;
}

static PyObject *given_back_tuple(const GivenBack *back) {
    PyObject *pairs = PyTuple_New(back->count);
    for (Py_ssize_t i = 0; pairs != NULL && i < back->count; i++) {
        PyObject *pair = Py_BuildValue("nn", back->pairs[2 * i], back->pairs[2 * i + 1]);
        if (pair == NULL) {
            Py_CLEAR(pairs);
        } else {
            PyTuple_SET_ITEM(pairs, i, pair);
        }
    }
    return pairs;
}

PyObject *parse_lines(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_buffer chunk;
    PyObject *plan;
    Py_ssize_t max_line_bytes;
    if (!PyArg_ParseTuple(args, "y*On:parse_lines", &chunk, &plan, &max_line_bytes)) {
        return NULL;
    }
    if (c_numbers == (locale_t)0 && (c_numbers = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) == 0) {
        PyBuffer_Release(&chunk);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Target *targets = NULL;
    PyObject *result = NULL;
    Py_ssize_t count = read_targets(plan, &targets);
    Slot *slots = count < 0 ? NULL : PyMem_RawCalloc(count ? count : 1, sizeof(Slot));
    if (count >= 0 && slots == NULL) {
        PyErr_NoMemory();
    } else if (count >= 0) {
        Buffer out = {NULL, 0, 0, 0};
        GivenBack back = {NULL, 0, 0};
        Py_ssize_t rows = 0, breaks = 0;
        PyThreadState *released = PyEval_SaveThread();
        int ok = parse_chunk(chunk.buf, (const char *)chunk.buf + chunk.len, targets, count,
                             max_line_bytes, slots, &out, &back, &rows, &breaks, &released);
        PyEval_RestoreThread(released);
        PyObject *data = buffer_result(&out, ok);
        PyObject *pairs = data == NULL ? NULL : given_back_tuple(&back);
        result = pairs == NULL ? NULL : Py_BuildValue("NnnN", data, rows, breaks, pairs);
        if (pairs == NULL) {
            Py_XDECREF(data);
        }
        PyMem_RawFree(back.pairs);
    }
    PyMem_RawFree(slots);
    free_targets(targets, PyTuple_Check(plan) ? PyTuple_GET_SIZE(plan) : 0);
    PyBuffer_Release(&chunk);
    return result;
}
