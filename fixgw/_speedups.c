/*
 * C versions of two small steps every order takes on a QuickFIX thread.
 *
 * With one order in flight, each order runs with cold caches, and there these steps cost far
 * more in the interpreter than in C: splitting a NewOrderSingle's text into its fields took
 * 17-38 us cold against 10 in C, and reading a socket's byte count through ctypes 44 us cold
 * against 9 (docs/architecture.md). The Python versions stay, as the definition and for a build
 * without a C compiler (FIXGW_NO_COMPILE=1): fixgw.handlers.split_fields and
 * fixgw.readahead.bytes_received_ctypes. tests/unit/test_speedups.py holds both to the same
 * answers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#ifndef TCP_INFO
#define TCP_INFO 11
#endif

/* Of tcpi_bytes_received (a u64) in struct tcp_info (Linux 4.1 and later). */
#define BYTES_RECEIVED_OFFSET 128

static PyObject *bytes_received(PyObject *module, PyObject *arg) {
    long fd = PyLong_AsLong(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    unsigned char info[BYTES_RECEIVED_OFFSET + sizeof(unsigned long long)];
    socklen_t size = sizeof(info);
    if (fd < 0 || fd > INT_MAX || getsockopt((int)fd, IPPROTO_TCP, TCP_INFO, info, &size) != 0 ||
        size < sizeof(info)) {
        Py_RETURN_NONE;
    }
    unsigned long long value;
    memcpy(&value, info + BYTES_RECEIVED_OFFSET, sizeof(value));
    return PyLong_FromUnsignedLongLong(value);
}

PyDoc_STRVAR(bytes_received_doc,
             "bytes_received(fd, /)\n--\n\n"
             "Bytes TCP socket fd has received since it was opened, or None if unknown.");

static PyObject *text_fields(PyObject *module, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "text must be str, not %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *fields = PyDict_New();
    if (fields == NULL) {
        return NULL;
    }
    Py_ssize_t start = 0;
    while (start < length) {
        Py_ssize_t equals = -1;
        Py_ssize_t end = start;
        for (; end < length; end++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, end);
            if (c == 1) {
                break;
            }
            if (c == '=' && equals < 0) {
                equals = end;
            }
        }
        if (end == length) {
            break; /* text after the last separator is not a field */
        }
        if (equals < 0) {
            Py_DECREF(fields);
            PyErr_Format(PyExc_ValueError, "field %zd of the message has no '='", start);
            return NULL;
        }
        PyObject *tag = PyUnicode_Substring(text, start, equals);
        if (tag == NULL) {
            Py_DECREF(fields);
            return NULL;
        }
        int seen = PyDict_Contains(fields, tag);
        if (seen == 0) {
            PyObject *value = PyUnicode_Substring(text, equals + 1, end);
            if (value == NULL || PyDict_SetItem(fields, tag, value) < 0) {
                seen = -1;
            }
            Py_XDECREF(value);
        }
        Py_DECREF(tag);
        if (seen < 0) {
            Py_DECREF(fields);
            return NULL;
        }
        start = end + 1;
    }
    return fields;
}

PyDoc_STRVAR(text_fields_doc,
             "text_fields(text, /)\n--\n\n"
             "Every field of a FIX message's text by tag text, first occurrence kept.");

static PyMethodDef methods[] = {
    {"bytes_received", bytes_received, METH_O, bytes_received_doc},
    {"text_fields", text_fields, METH_O, text_fields_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "fixgw._speedups",
    "C versions of order-path steps; see fixgw/_speedups.c.",
    -1,
    methods,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
