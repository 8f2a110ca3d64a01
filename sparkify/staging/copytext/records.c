/* format_rows: the COPY text of records msgspec has decoded (and checked: every rule of these
 * columns is part of the records' types), the compiled twin of the typed line function in
 * sparkify/staging/mappers.py. None as \N, an int as str(int), a float as repr(float), a str
 * with COPY's escapes. Anything else (another type, a NUL, a lone surrogate, a null where the
 * column may not have one) gives back None, and the caller redoes the records in Python.
 */
#include "copytext.h"

#include <structmember.h>

typedef struct {
    PyObject *name;
    int kind;
    int nullable;
    Py_ssize_t offset;  /* of the attribute's slot in a record of the first record's type, or -1 */
} Column;

static int put_value(Buffer *buffer, const Column *column, PyObject *value) {
    if (value == Py_None) {
        return column->nullable ? (put(buffer, "\\N", 2) < 0 ? -1 : 1) : 0;
    }
    if (column->kind == KIND_TEXT) {
        if (!PyUnicode_CheckExact(value)) {
            return 0;
        }
        Py_ssize_t size;
        const char *text = PyUnicode_AsUTF8AndSize(value, &size);
        if (text == NULL) {  /* a lone surrogate */
            PyErr_Clear();
            return 0;
        }
        return put_escaped(buffer, text, (size_t)size);
    }
    if (column->kind == KIND_INT) {
        if (!PyLong_CheckExact(value)) {
            return 0;
        }
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow || (number == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        return put_int64(buffer, number);
    }
    return PyFloat_CheckExact(value) ? put_double(buffer, PyFloat_AS_DOUBLE(value), NULL) : 0;
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

/* 1 the record's line written, 0 give the records back, -1 out of memory or error raised */
static int put_record(Buffer *buffer, const Column *columns, Py_ssize_t count, PyTypeObject *type,
                      PyObject *record) {
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = attribute(record, type, &columns[i]);
        if (value == NULL) {
            return PyErr_Occurred() ? -2 : 0;
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
        column->offset = -1;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(items, i), "Uip;a column is (attribute, "
                              "kind, nullable)", &column->name, &column->kind, &column->nullable)) {
            Py_DECREF(items);
            return -1;
        }
    }
    Py_DECREF(items);  /* the names stay alive: the caller holds `spec` for the call */
    return count;
}

PyObject *format_rows(PyObject *Py_UNUSED(module), PyObject *args) {
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
    Buffer buffer = {NULL, 0, 0, 0};
    int done = 1;
    for (Py_ssize_t r = 0; r < total && done == 1; r++) {
        done = put_record(&buffer, columns, count, type, PyList_GET_ITEM(records, r));
    }
    PyObject *result = buffer_result(&buffer, done);  /* -2: an error is raised already */
    PyMem_Free(columns);
    return result;
}
