/* COPY text of decoded staging records, in C: sparkify.staging._copyrows.format_rows.
 *
 * The compiled twin of the typed line function in sparkify/staging/mappers.py, for records
 * whose every rule msgspec has already checked while decoding. Each value is written as that
 * function writes it: None as \N, an int as str(int), a float as repr(float) (CPython's own
 * PyOS_double_to_string, as float.__repr__ calls it), a str with backslash, tab, newline and
 * carriage return escaped. Anything else (another type, a NUL, text that is not valid UTF-8,
 * a null where the column may not have one) returns None, and the caller redoes the chunk
 * line by line in Python, where the exact error is raised.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <string.h>

enum { KIND_TEXT = 0, KIND_INT = 1, KIND_FLOAT = 2 };

typedef struct {
    PyObject *name;
    int kind;
    int nullable;
    Py_ssize_t offset;  /* of the attribute's slot in a record of the first record's type, or -1 */
} Column;

typedef struct {
    char *data;
    size_t size;
    size_t capacity;
} Buffer;

static inline int reserve(Buffer *buffer, size_t more) {
    if (buffer->size + more <= buffer->capacity) {
        return 0;
    }
    size_t capacity = buffer->capacity ? buffer->capacity : 1 << 16;
    while (capacity < buffer->size + more) {
        capacity *= 2;
    }
    char *data = PyMem_Realloc(buffer->data, capacity);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

static inline int put(Buffer *buffer, const char *bytes, size_t size) {
    if (reserve(buffer, size) < 0) {
        return -1;
    }
    memcpy(buffer->data + buffer->size, bytes, size);
    buffer->size += size;
    return 0;
}

/* 1 written, 0 not this function's to write (the caller falls back), -1 error raised */
static int put_text(Buffer *buffer, PyObject *value) {
    if (!PyUnicode_CheckExact(value)) {
        return 0;
    }
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(value, &size);
    if (text == NULL) {  /* a lone surrogate: the Python path raises the exact error */
        PyErr_Clear();
        return 0;
    }
    /* most texts hold nothing to escape: strcspn stops at the first special byte or the NUL
     * that ends the UTF-8, so reaching `size` means there is neither */
    size_t plain = strcspn(text, "\\\t\n\r");
    if (plain == (size_t)size) {
        return put(buffer, text, plain) < 0 ? -1 : 1;
    }
    if (reserve(buffer, 2 * (size_t)size) < 0) {
        return -1;
    }
    char *out = buffer->data + buffer->size;
    for (Py_ssize_t i = 0; i < size; i++) {
        char c = text[i];
        switch (c) {
        case '\0':
            return 0;
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

static int put_int(Buffer *buffer, PyObject *value) {
    if (!PyLong_CheckExact(value)) {
        return 0;
    }
    int overflow;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (number == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    char digits[24];
    char *end = digits + sizeof digits, *start = end;
    unsigned long long magnitude = number < 0 ? 0ULL - (unsigned long long)number
                                              : (unsigned long long)number;
    do {
        *--start = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (number < 0) {
        *--start = '-';
    }
    return put(buffer, start, end - start) < 0 ? -1 : 1;
}

/* The digits of `magnitude` (at least `width` of them, zero-padded) end at `end`; returns
 * where they start. */
static char *digits_before(char *end, unsigned long long magnitude, int width) {
    char *start = end;
    do {
        *--start = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude || end - start < width);
    return start;
}

static const double POWERS_OF_TEN[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                       1e11, 1e12, 1e13, 1e14, 1e15};

/* repr(float) for most values without dtoa's big-number arithmetic: the fewest decimals k whose
 * nearest k-place decimal r / 10^k converts back to the same double. Because r and 10^k are
 * exact doubles (r < 2^50) and IEEE division rounds correctly, that test is exactly what
 * reading the text back does; the first k that passes is the shortest text, and r, taken
 * only when well clear of a tie, the nearest of that length, which is what repr writes. 0 when
 * the value is left to PyOS_double_to_string (exponent notation, ties, 16 or more digits). */
static int put_float_fast(Buffer *buffer, double value) {
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

static int put_float(Buffer *buffer, PyObject *value) {
    if (!PyFloat_CheckExact(value)) {
        return 0;
    }
    double number = PyFloat_AS_DOUBLE(value);
    int done = put_float_fast(buffer, number);
    if (done != 0) {
        return done;
    }
    char *text = PyOS_double_to_string(number, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL) {
        return -1;
    }
    done = put(buffer, text, strlen(text)) < 0 ? -1 : 1;
    PyMem_Free(text);
    return done;
}

static int put_value(Buffer *buffer, const Column *column, PyObject *value) {
    if (value == Py_None) {
        return column->nullable ? (put(buffer, "\\N", 2) < 0 ? -1 : 1) : 0;
    }
    switch (column->kind) {
    case KIND_TEXT: return put_text(buffer, value);
    case KIND_INT: return put_int(buffer, value);
    default: return put_float(buffer, value);
    }
}

/* A record's attribute, as a new reference; NULL with no error raised when it is unset. Read
 * from its slot when the record is of the type the offsets were found for (msgspec's structs
 * keep fields in slots): a generic attribute look-up costs more than formatting most values. */
static PyObject *attribute(PyObject *record, PyTypeObject *type, const Column *column) {
    if (Py_TYPE(record) == type && column->offset >= 0) {
        PyObject *value = *(PyObject **)((char *)record + column->offset);
        return value ? Py_NewRef(value) : NULL;
    }
    PyObject *value = PyObject_GetAttr(record, column->name);
    if (value == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
    }
    return value;
}

/* 1 the record's line written, 0 fall back, -1 error raised */
static int put_record(Buffer *buffer, const Column *columns, Py_ssize_t count, PyTypeObject *type,
                      PyObject *record) {
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = attribute(record, type, &columns[i]);
        if (value == NULL) {
            return PyErr_Occurred() ? -1 : 0;
        }
        int done = put_value(buffer, &columns[i], value);
        Py_DECREF(value);
        if (done <= 0) {
            return done;
        }
        if (put(buffer, i + 1 < count ? "\t" : "\n", 1) < 0) {
            return -1;
        }
    }
    return 1;
}

/* The offset of `name`'s slot in instances of `type`, or -1 when it is not a plain slot. */
static Py_ssize_t slot_offset(PyTypeObject *type, PyObject *name) {
    PyObject *descriptor = PyObject_GetAttr((PyObject *)type, name);
    if (descriptor == NULL) {
        PyErr_Clear();
        return -1;
    }
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(descriptor, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descriptor)->d_member;
        if (member->type == T_OBJECT_EX && !(member->flags & PY_AUDIT_READ)) {
            offset = member->offset;
        }
    }
    Py_DECREF(descriptor);
    return offset;
}

static Py_ssize_t read_columns(PyObject *spec, Column **columns) {
    PyObject *items = PySequence_Fast(spec, "columns must be a sequence");
    if (items == NULL) {
        return -1;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    *columns = PyMem_Calloc(count ? count : 1, sizeof(Column));
    if (*columns == NULL) {
        Py_DECREF(items);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Column *column = &(*columns)[i];
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(items, i), "Uip;a column is (attribute, "
                              "kind, nullable)", &column->name, &column->kind, &column->nullable)) {
            Py_DECREF(items);
            return -1;
        }
        column->offset = -1;
    }
    Py_DECREF(items);  /* the names stay alive: the caller holds `spec` for the call */
    return count;
}

static PyObject *format_rows(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *records, *spec;
    if (!PyArg_ParseTuple(args, "O!O:format_rows", &PyList_Type, &records, &spec)) {
        return NULL;
    }
    Column *columns = NULL;
    Py_ssize_t count = read_columns(spec, &columns);
    if (count < 0) {
        PyMem_Free(columns);
        return NULL;
    }
    Py_ssize_t total = PyList_GET_SIZE(records);
    PyTypeObject *type = total ? Py_TYPE(PyList_GET_ITEM(records, 0)) : NULL;
    for (Py_ssize_t i = 0; type != NULL && i < count; i++) {
        columns[i].offset = slot_offset(type, columns[i].name);
    }
    Buffer buffer = {NULL, 0, 0};
    PyObject *result = NULL;
    int done = 1;
    for (Py_ssize_t r = 0; r < total && done == 1; r++) {
        done = put_record(&buffer, columns, count, type, PyList_GET_ITEM(records, r));
    }
    if (done == 1) {
        result = PyBytes_FromStringAndSize(buffer.data ? buffer.data : "", buffer.size);
    } else if (done == 0) {
        result = Py_NewRef(Py_None);
    }
    PyMem_Free(buffer.data);
    PyMem_Free(columns);
    return result;
}

static PyMethodDef methods[] = {
    {"format_rows", format_rows, METH_VARARGS,
     "format_rows(records, columns) -> bytes | None\n\n"
     "The COPY text of a list of records: `columns` is a sequence of (attribute, kind, "
     "nullable), kind 0 text, 1 integer, 2 float. None when a value is not the column's to "
     "write here (the caller redoes the records in Python)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_copyrows", "COPY text of decoded staging records.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__copyrows(void) {
    return PyModule_Create(&module);
}
