/* Bytes to text, compiled: the common cases of nianbao.io.textio, each equal to Python's own codec.
 *
 * gbk(data, table): a GB18030 file whose bytes are all ASCII or two-byte (GBK range) characters,
 * decoded through ``table`` (one UCS-2 unit per lead byte 0x81-0xFE and trail byte 0x40-0xFE, 0 for
 * a pair that is not one character there), which textio builds once per process from Python's own
 * gb18030 codec: the same mapping by construction.  Returns None at the first byte it does not take
 * (0x80, 0xFF, a four-byte sequence, a pair the table lacks, a lead byte at the end): the caller then
 * decodes with Python's codec (and its error reports) as before.
 *
 * controls(text): the index of the text's first C0 control character (U+0000-U+0008,
 * U+000E-U+001F) or DEL, or -1: what textio._CONTROL.search finds, without the regex.
 *
 * slurp(path, limit): a regular file's bytes and modification time (ns) as nianbao.io.files.read_bytes
 * gives them (one open, fstat of the open file, one read of its size and one byte more, close),
 * without a Python call and a stat_result per step; None whenever that is not the whole story (it
 * cannot be opened or its status taken, it is no regular file, larger than ``limit``, or the read
 * gives other than the size its status said): the caller then reads it by read_bytes, which says why.
 *
 * utf16le_join(texts): the texts (a list of str) joined and encoded as UTF-16-LE, as
 * "".join(texts).encode("utf-16-le") gives them, in one pass (no joined str first); None when a text
 * has a character beyond U+FFFF or a lone surrogate (the caller then encodes by Python's codec).
 *
 * joined(parts): the parts (a list of objects with the buffer protocol: bytes, arrays) joined, and
 * where each one ends in bytes (native uint64): what b"".join(parts) and the running sum of
 * memoryview(p).nbytes give, in one pass, the copies made with the GIL released (the validation's
 * cell arrays of 100,000 reports: ~0.35 GB whose page faults another thread need not wait for).
 *
 * Linear in the input; no state kept between calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#define LEADS 126  /* 0x81-0xFE */
#define TRAILS 191 /* 0x40-0xFE */

static PyObject *gbk(PyObject *self, PyObject *args) {
    Py_buffer data, table;
    if (!PyArg_ParseTuple(args, "y*y*", &data, &table))
        return NULL;
    PyObject *out = NULL;
    if (table.len != (Py_ssize_t)(LEADS * TRAILS * sizeof(Py_UCS2))) {
        PyErr_SetString(PyExc_ValueError, "gbk: the table has the wrong size");
        goto done;
    }
    const unsigned char *p = (const unsigned char *)data.buf;
    const Py_UCS2 *t = (const Py_UCS2 *)table.buf;
    Py_ssize_t n = data.len;
    Py_UCS2 *buf = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_UCS2)); /* chars <= bytes */
    if (!buf) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t i = 0, k = 0;
    Py_UCS2 top = 0;
    while (i < n) {
        unsigned char b = p[i];
        if (b < 0x80) {
            buf[k++] = b;
            i++;
            continue;
        }
        if (b == 0x80 || b == 0xFF || i + 1 >= n)
            break;
        unsigned char c = p[i + 1];
        if (c < 0x40 || c == 0xFF)
            break;
        Py_UCS2 u = t[(b - 0x81) * TRAILS + (c - 0x40)];
        if (!u)
            break;
        top |= u;
        buf[k++] = u;
        i += 2;
    }
    if (i < n) {
        out = Py_NewRef(Py_None);
    } else if (top > 0xFF) {
        /* a character past Latin-1 (``top`` ORs them all): the str is of two-byte kind, copied whole */
        out = PyUnicode_New(k, 0xFFFF);
        if (out)
            memcpy(PyUnicode_2BYTE_DATA(out), buf, (size_t)k * sizeof(Py_UCS2));
    } else {
        out = PyUnicode_FromKindAndData(PyUnicode_2BYTE_KIND, buf, k); /* narrowed to its kind */
    }
    PyMem_Free(buf);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&table);
    return out;
}

static inline int is_control(Py_UCS4 c) {
    return c <= 0x08 || (c >= 0x0E && c <= 0x1F) || c == 0x7F;
}

static PyObject *controls(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "controls: a str is needed");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg);
    const void *d = PyUnicode_DATA(arg);
    Py_ssize_t i;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *s = d;
        for (i = 0; i < n; i++)
            if (is_control(s[i]))
                return PyLong_FromSsize_t(i);
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *s = d;
        for (i = 0; i < n; i++)
            if (is_control(s[i]))
                return PyLong_FromSsize_t(i);
    } else {
        const Py_UCS4 *s = d;
        for (i = 0; i < n; i++)
            if (is_control(s[i]))
                return PyLong_FromSsize_t(i);
    }
    return PyLong_FromLong(-1);
}

static PyObject *slurp(PyObject *self, PyObject *args) {
    PyObject *path;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "O&n", PyUnicode_FSConverter, &path, &limit))
        return NULL;
#ifdef _WIN32
    Py_DECREF(path);
    Py_RETURN_NONE;
#else
    const char *name = PyBytes_AS_STRING(path);
    struct stat st;
    int fd, ok;
    Py_BEGIN_ALLOW_THREADS
    fd = open(name, O_RDONLY | O_CLOEXEC);
    ok = fd >= 0 && fstat(fd, &st) == 0;
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (!ok || !S_ISREG(st.st_mode) || st.st_size > limit || st.st_size >= PY_SSIZE_T_MAX - 1) {
        if (fd >= 0)
            close(fd);
        Py_RETURN_NONE;
    }
    Py_ssize_t size = (Py_ssize_t)st.st_size;
    PyObject *data = PyBytes_FromStringAndSize(NULL, size + 1);
    if (!data) {
        close(fd);
        return NULL;
    }
    ssize_t got;
    Py_BEGIN_ALLOW_THREADS
    got = read(fd, PyBytes_AS_STRING(data), (size_t)size + 1);
    close(fd);
    Py_END_ALLOW_THREADS
    if (got != size) { /* an error, a short read, or the file grew since its status: read_bytes reads it */
        Py_DECREF(data);
        Py_RETURN_NONE;
    }
    if (_PyBytes_Resize(&data, size) < 0)
        return NULL;
#ifdef __APPLE__
    long long mtime = (long long)st.st_mtimespec.tv_sec * 1000000000LL + (long long)st.st_mtimespec.tv_nsec;
#else
    long long mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + (long long)st.st_mtim.tv_nsec;
#endif
    return Py_BuildValue("(NL)", data, mtime);
#endif
}

#ifndef _WIN32
/* The file-system bytes of each name of the list ``names`` and an array of pointers to them
 * (PyMem_Free it); ``*encoded`` is set to a new list holding the bytes, to keep them alive while
 * the GIL is released.  NULL with an exception set (``*encoded`` NULL too) on failure. */
static const char **fs_paths(PyObject *names, PyObject **encoded) {
    Py_ssize_t n = PyList_GET_SIZE(names);
    const char **paths = NULL;
    *encoded = PyList_New(n);
    if (*encoded == NULL)
        return NULL;
    paths = PyMem_Malloc(sizeof(char *) * (size_t)(n ? n : 1));
    if (paths == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = PyUnicode_EncodeFSDefault(PyList_GET_ITEM(names, i));
        if (b == NULL)
            goto fail;
        PyList_SET_ITEM(*encoded, i, b);
        paths[i] = PyBytes_AS_STRING(b);
    }
    return paths;
fail:
    PyMem_Free(paths);
    Py_CLEAR(*encoded);
    return NULL;
}
#endif

/* linkat_all(src_fd, dst_fd, names): each name of the list hard-linked from the folder ``src_fd``
 * into the folder ``dst_fd`` under the same name (linkat, no symlink followed), in order, the GIL
 * released for the whole loop (another thread runs meanwhile: nianbao.report.reuse); returns the
 * (index, errno) of each name that failed, the others linked.  Not on Windows (NotImplementedError). */
static PyObject *linkat_all(PyObject *self, PyObject *args) {
    int sfd, dfd;
    PyObject *names;
    if (!PyArg_ParseTuple(args, "iiO!", &sfd, &dfd, &PyList_Type, &names))
        return NULL;
#ifdef _WIN32
    PyErr_SetString(PyExc_NotImplementedError, "linkat_all");
    return NULL;
#else
    Py_ssize_t n = PyList_GET_SIZE(names);
    PyObject *encoded;
    const char **paths = fs_paths(names, &encoded);
    if (paths == NULL)
        return NULL;
    int *errs = PyMem_Malloc(sizeof(int) * (size_t)(n ? n : 1));
    PyObject *failed = NULL;
    if (errs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        errs[i] = linkat(sfd, paths[i], dfd, paths[i], 0) == 0 ? 0 : errno;
    Py_END_ALLOW_THREADS
    failed = PyList_New(0);
    if (failed == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (errs[i] == 0)
            continue;
        PyObject *t = Py_BuildValue("(ni)", i, errs[i]);
        if (t == NULL || PyList_Append(failed, t) < 0) {
            Py_XDECREF(t);
            Py_CLEAR(failed);
            goto done;
        }
        Py_DECREF(t);
    }
done:
    PyMem_Free(paths);
    PyMem_Free(errs);
    Py_DECREF(encoded);
    return failed;
#endif
}

/* stat_all(dir_fd, names): for each name of the list, in the folder ``dir_fd``, its (size, mtime in
 * ns) when it is a regular file (fstatat, no symlink followed: what DirEntry.stat(follow_symlinks=
 * False) gives), else None (it is not, or its status cannot be taken); the GIL released for the whole
 * loop, one tuple a file made (no stat_result): nianbao.run.inputs.discover.  Not on Windows. */
static PyObject *stat_all(PyObject *self, PyObject *args) {
    int dfd;
    PyObject *names;
    if (!PyArg_ParseTuple(args, "iO!", &dfd, &PyList_Type, &names))
        return NULL;
#ifdef _WIN32
    PyErr_SetString(PyExc_NotImplementedError, "stat_all");
    return NULL;
#else
    Py_ssize_t n = PyList_GET_SIZE(names);
    PyObject *encoded;
    const char **paths = fs_paths(names, &encoded);
    if (paths == NULL)
        return NULL;
    size_t m = (size_t)(n ? n : 1);
    long long *sizes = PyMem_Malloc(sizeof(long long) * m);
    long long *mtimes = PyMem_Malloc(sizeof(long long) * m);
    char *regular = PyMem_Malloc(m);
    PyObject *result = NULL;
    if (sizes == NULL || mtimes == NULL || regular == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        struct stat st;
        regular[i] = fstatat(dfd, paths[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
        if (regular[i]) {
            sizes[i] = (long long)st.st_size;
#ifdef __APPLE__
            mtimes[i] = (long long)st.st_mtimespec.tv_sec * 1000000000LL + (long long)st.st_mtimespec.tv_nsec;
#else
            mtimes[i] = (long long)st.st_mtim.tv_sec * 1000000000LL + (long long)st.st_mtim.tv_nsec;
#endif
        }
    }
    Py_END_ALLOW_THREADS
    result = PyList_New(n);
    if (result == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t;
        if (regular[i]) {
            t = Py_BuildValue("(LL)", sizes[i], mtimes[i]);
            if (t == NULL) {
                Py_CLEAR(result);
                goto done;
            }
        } else {
            t = Py_NewRef(Py_None);
        }
        PyList_SET_ITEM(result, i, t);
    }
done:
    PyMem_Free(paths);
    PyMem_Free(sizes);
    PyMem_Free(mtimes);
    PyMem_Free(regular);
    Py_DECREF(encoded);
    return result;
#endif
}


static PyObject *utf16le_join(PyObject *self, PyObject *arg) {
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "utf16le_join: a list of str is needed");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(arg), total = 0, i;
    for (i = 0; i < n; i++) {
        PyObject *t = PyList_GET_ITEM(arg, i);
        if (!PyUnicode_Check(t)) {
            PyErr_SetString(PyExc_TypeError, "utf16le_join: a list of str is needed");
            return NULL;
        }
        if (PyUnicode_READY(t) < 0)
            return NULL;
        if (PyUnicode_KIND(t) == PyUnicode_4BYTE_KIND)
            Py_RETURN_NONE;
        Py_ssize_t len = PyUnicode_GET_LENGTH(t);
        if (len > PY_SSIZE_T_MAX / 2 - total) {
            PyErr_NoMemory();
            return NULL;
        }
        total += len;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total * 2);
    if (out == NULL)
        return NULL;
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    for (i = 0; i < n; i++) {
        PyObject *t = PyList_GET_ITEM(arg, i);
        Py_ssize_t len = PyUnicode_GET_LENGTH(t), j;
        if (PyUnicode_KIND(t) == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *s = PyUnicode_1BYTE_DATA(t);
            for (j = 0; j < len; j++) {
                w[2 * j] = s[j];
                w[2 * j + 1] = 0;
            }
        } else {
            const Py_UCS2 *s = PyUnicode_2BYTE_DATA(t);
            int bad = 0;
            for (j = 0; j < len; j++)
                bad |= (s[j] & 0xF800) == 0xD800;
            if (bad) {
                Py_DECREF(out);
                Py_RETURN_NONE;
            }
#if PY_LITTLE_ENDIAN
            memcpy(w, s, (size_t)len * 2);
#else
            for (j = 0; j < len; j++) {
                w[2 * j] = (unsigned char)(s[j] & 0xFF);
                w[2 * j + 1] = (unsigned char)(s[j] >> 8);
            }
#endif
        }
        w += 2 * len;
    }
    return out;
}

static PyObject *joined(PyObject *self, PyObject *arg) {
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "joined: a list is needed");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(arg), got = 0, i;
    Py_buffer *views = PyMem_Malloc(sizeof(Py_buffer) * (size_t)(n > 0 ? n : 1));
    if (views == NULL)
        return PyErr_NoMemory();
    PyObject *data = NULL, *ends = NULL, *out = NULL;
    Py_ssize_t total = 0;
    for (; got < n; got++) {
        if (PyObject_GetBuffer(PyList_GET_ITEM(arg, got), &views[got], PyBUF_SIMPLE) < 0)
            goto done;
        if (views[got].len > PY_SSIZE_T_MAX - total) {
            PyBuffer_Release(&views[got]);
            PyErr_NoMemory();
            goto done;
        }
        total += views[got].len;
    }
    data = PyBytes_FromStringAndSize(NULL, total);
    ends = PyBytes_FromStringAndSize(NULL, n * 8);
    if (data == NULL || ends == NULL)
        goto done;
    char *w = PyBytes_AS_STRING(data), *e = PyBytes_AS_STRING(ends);
    uint64_t at = 0;
    /* the copies (and the page faults of a large result) without the GIL: the parts are held by
     * their views, and the two results are not seen by anyone yet */
    Py_BEGIN_ALLOW_THREADS
    for (i = 0; i < n; i++) {
        memcpy(w + at, views[i].buf, (size_t)views[i].len);
        at += (uint64_t)views[i].len;
        memcpy(e + 8 * i, &at, 8);
    }
    Py_END_ALLOW_THREADS
    out = PyTuple_Pack(2, data, ends);
done:
    for (i = 0; i < got; i++)
        PyBuffer_Release(&views[i]);
    PyMem_Free(views);
    Py_XDECREF(data);
    Py_XDECREF(ends);
    return out;
}

static PyMethodDef methods[] = {
    {"stat_all", stat_all, METH_VARARGS, "Each name's (size, mtime_ns) in a folder (fd) when a regular file, else None; the GIL released."},
    {"linkat_all", linkat_all, METH_VARARGS, "Hard-link a list of names from one folder (fd) into another, the GIL released; the failures' (index, errno)."},
    {"gbk", gbk, METH_VARARGS, "GB18030 bytes of ASCII and two-byte characters to str, by the table; None otherwise."},
    {"slurp", slurp, METH_VARARGS, "A regular file's bytes and mtime (ns) by one read, or None (read it by read_bytes)."},
    {"controls", controls, METH_O, "Index of the first C0 control character or DEL in a str, or -1."},
    {"joined", joined, METH_O, "A list of buffers joined, and where each ends in bytes (uint64)."},
    {"utf16le_join", utf16le_join, METH_O, "A list of str joined as UTF-16-LE bytes, or None (a character beyond U+FFFF, a lone surrogate)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "nianbao.io.decode",
    .m_doc = "Bytes to text, compiled (see decode.c).",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit_decode(void) { return PyModule_Create(&module); }
