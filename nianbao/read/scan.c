/* The bulk reader's line scan (nianbao.read.bulk._frame_c), compiled.
 *
 * One call reads a chunk of decoded report texts line by line, straight from the str objects
 * (each text widened once to UCS-4; char counts are indices, UTF-8 widths computed per code
 * point), and gives what bulk._frame_polars finds of the lines by ~30 polars passes: the bad lines
 * that leave a text to the per-report path, each line as a str (None for a row of number cells
 * that is no heading, period, text or mark line: bulk._own_lines makes it when a rare path reads
 * it), its skeleton (number cells masked) and count of number cells, the heading / period / text /
 * label-mark lines, what meta.unwrapped reads of each line of text, and every number cell's value
 * (the odd ones named, read by fast.read_code in Python).
 *
 * Each text is read as bulk._text reads it (each CRLF an LF, the last LF dropped): classify() skips
 * the CR of a CRLF, scan() drops it from its UCS-4 copy (then makes the lines' str from that copy).
 * classify() reads each text's rejection (bulk._REJECT) through a table polars' regex wrote (see
 * below); scan() reads only the texts accepted.  Such a text holds no whitespace but space, tab
 * and LF, and no decimal digit but 0-9, so the patterns' Unicode classes are read here as ASCII
 * ones: regex \s and polars' strip_chars() (Unicode White_Space) are space and tab within a line,
 * \d (Unicode Nd) is 0-9.  Every pattern mirrored here is anchored at the line's start (after
 * spaces and tabs) or end, or is a literal: the alternatives of STARTS_BLOCK_PATTERN start with
 * disjoint characters and each class run is followed by a character outside the class, so the
 * greedy reading below is the regex's (no backtracking changes a match); a mark with spaces and
 * tabs between its characters (bulk._SPACED_MARKS) is the mark in the line without its spaces and
 * tabs (no mark holds one: checked when the marks are read).
 * tests/read/test_scan.py compares the whole chunk with the polars path's.
 *
 * Linear work in the chunk's characters (a mark search from a position walks at most the mark's
 * characters and the spaces and tabs between them; a text with a bad line is read up to it, then
 * taken back); any failure raises (the caller then takes the polars path for the chunk).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

typedef struct {
    char *p;
    Py_ssize_t n, cap;
} Buf;

/* *p (of *cap items of item bytes) made room for need items: its capacity doubled from first (or its
 * own) until it holds them; -1 (MemoryError set) when it cannot */
static int
grow(void **p, Py_ssize_t *cap, Py_ssize_t need, Py_ssize_t first, size_t item)
{
    if (need <= *cap)
        return 0;
    Py_ssize_t c = *cap ? *cap : first;
    while (c < need) {
        if (c > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)item) {
            PyErr_NoMemory();
            return -1;
        }
        c *= 2;
    }
    void *q = PyMem_Realloc(*p, (size_t)c * item);
    if (q == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *p = q;
    *cap = c;
    return 0;
}

static int
buf_grow(Buf *b, Py_ssize_t len)
{
    void *p = b->p;
    if (grow(&p, &b->cap, b->n + len, 1 << 16, 1) < 0)
        return -1;
    b->p = p;
    return 0;
}

/* a value at the end of the buffer (the copy of a constant size is a store) */
#define PUT(b, v)                                                                                  \
    do {                                                                                           \
        if ((b)->n + (Py_ssize_t)sizeof(v) > (b)->cap && buf_grow((b), (Py_ssize_t)sizeof(v)) < 0) \
            return -1;                                                                             \
        memcpy((b)->p + (b)->n, &(v), sizeof(v));                                                  \
        (b)->n += (Py_ssize_t)sizeof(v);                                                           \
    } while (0)

static inline int put_i64(Buf *b, int64_t v) { PUT(b, v); return 0; }
static inline int put_u32(Buf *b, uint32_t v) { PUT(b, v); return 0; }
static inline int put_u8(Buf *b, uint8_t v) { PUT(b, v); return 0; }
static inline int put_f64(Buf *b, double v) { PUT(b, v); return 0; }

static PyObject *
buf_take(Buf *b)
{
    PyObject *out = PyByteArray_FromStringAndSize(b->p ? b->p : "", b->n);
    return out;
}

#define MAX_TEXT (1 << 28) /* characters: a line's UTF-8 width fits 32 bits (bulk.MAX_CHARS is far less) */
#define MAX_MARKS 64
#define FIRST_BITS 7
#define FIRST_SLOTS (1 << FIRST_BITS) /* more than twice MAX_MARKS: a probe ends at an empty slot */
#define MAX_ENDS 64

typedef struct {
    Py_ssize_t max_lines, max_line_chars, max_cells, period_lines, label_max, head_max, plain_digits;
    uint8_t zero_code, value_code;
    int n_marks;
    Py_UCS4 *marks[MAX_MARKS];
    Py_ssize_t mark_len[MAX_MARKS];
    int n_ends;
    Py_UCS4 ends[MAX_ENDS];
    /* the marks by first character: open addressing over FIRST_SLOTS (a few characters) */
    Py_UCS4 first[FIRST_SLOTS];
    uint64_t first_marks[FIRST_SLOTS]; /* a bit per mark starting with the character; 0: an empty slot */
} Conf;

static inline unsigned
first_slot(Py_UCS4 c)
{
    return (unsigned)((c * 2654435761u) >> (32 - FIRST_BITS));
}

/* the marks starting with c, a bit each */
static inline uint64_t
marks_from(const Conf *cf, Py_UCS4 c)
{
    for (unsigned h = first_slot(c);; h = (h + 1) & (FIRST_SLOTS - 1)) {
        uint64_t m = cf->first_marks[h];
        if (m == 0 || cf->first[h] == c)
            return m;
    }
}

enum { B_RIDS, B_NUMBERS, B_HEADS, B_PERIODS, B_PROSE, B_OPEN, B_ENDS, B_BLOCK, B_WIDTH, B_NO,
       B_MARKROWS, B_FIRST, B_VALUES, B_STATES, N_BUFS };

static inline int
is_ws(Py_UCS4 c)
{
    return c == ' ' || c == '\t';
}

static inline int
is_digit(Py_UCS4 c)
{
    return c >= '0' && c <= '9';
}

/* 一二三四五六七八九十: the heading numbers of _HEADING_START and STARTS_BLOCK_PATTERN */
static inline int
is_cn_num(Py_UCS4 c)
{
    switch (c) {
    case 0x4e00: case 0x4e8c: case 0x4e09: case 0x56db: case 0x4e94:
    case 0x516d: case 0x4e03: case 0x516b: case 0x4e5d: case 0x5341:
        return 1;
    }
    return 0;
}

/* STARTS_BLOCK_PATTERN at the line's first character that is not a space or tab (p < e):
 *   [一..十]+[、.] | [（(][一..十]+[)）] | \d+[、.](?:[^\d]|$) | 第[一..十]+[章节条] */
static int
starts_block(const Py_UCS4 *u, Py_ssize_t p, Py_ssize_t e)
{
    Py_UCS4 c = u[p];
    Py_ssize_t q;
    if (is_cn_num(c)) {
        for (q = p; q < e && is_cn_num(u[q]); q++)
            ;
        return q < e && (u[q] == 0x3001 || u[q] == '.');
    }
    if (c == 0xff08 || c == '(') {
        for (q = p + 1; q < e && is_cn_num(u[q]); q++)
            ;
        return q > p + 1 && q < e && (u[q] == ')' || u[q] == 0xff09);
    }
    if (is_digit(c)) {
        for (q = p; q < e && is_digit(u[q]); q++)
            ;
        if (!(q < e && (u[q] == 0x3001 || u[q] == '.')))
            return 0;
        return q + 1 == e || !is_digit(u[q + 1]);
    }
    if (c == 0x7b2c) { /* 第 */
        for (q = p + 1; q < e && is_cn_num(u[q]); q++)
            ;
        return q > p + 1 && q < e && (u[q] == 0x7ae0 || u[q] == 0x8282 || u[q] == 0x6761); /* 章节条 */
    }
    return 0;
}

/* a mark, spaces and tabs allowed between its characters (bulk._SPACED_MARKS), in [s, e) */
static int
has_mark(const Conf *cf, const Py_UCS4 *u, Py_ssize_t s, Py_ssize_t e)
{
    for (Py_ssize_t i = s; i < e; i++) {
        uint64_t from = marks_from(cf, u[i]);
        for (int m = 0; from; m++, from >>= 1) {
            if (!(from & 1))
                continue;
            const Py_UCS4 *mk = cf->marks[m];
            Py_ssize_t j = i + 1, k = 1, len = cf->mark_len[m];
            while (k < len) {
                while (j < e && is_ws(u[j]))
                    j++;
                if (j >= e || u[j] != mk[k])
                    break;
                j++;
                k++;
            }
            if (k == len)
                return 1;
        }
    }
    return 0;
}

/* ^[0-9]+(?:\.[0-9]+)?$ over [s, e); *dot set when it has the decimal point */
static int
is_number_cell(const Py_UCS4 *u, Py_ssize_t s, Py_ssize_t e, int *dot)
{
    Py_ssize_t q = s;
    *dot = 0;
    while (q < e && is_digit(u[q]))
        q++;
    if (q == s)
        return 0;
    if (q == e)
        return 1;
    if (u[q] != '.')
        return 0;
    Py_ssize_t r = ++q;
    while (q < e && is_digit(u[q]))
        q++;
    if (q == r || q != e)
        return 0;
    *dot = 1;
    return 1;
}

typedef struct {
    Buf b[N_BUFS];
    Py_UCS4 *u;
    Py_ssize_t ucap;
    Py_ssize_t *cell; /* a line's cells: where each ends (a tab or the line's end) */
    char *mask; /* … and its mask (0: kept as printed) */
    Py_ssize_t cellcap;
    PyObject *raws, *skel, *odd, *prose_raw;
    int64_t row, cells, open;
    int from_u; /* the text's lines are read from u, not from the str (its CRLFs were made LFs) */
} State;

static int
grow_cells(State *st, Py_ssize_t need)
{
    /* the cells' ends and their masks: the same capacity */
    Py_ssize_t cap = st->cellcap, mcap = st->cellcap;
    void *cell = st->cell, *mask = st->mask;
    int r = grow(&cell, &cap, need, 256, sizeof(Py_ssize_t));
    st->cell = cell;
    if (r < 0 || grow(&mask, &mcap, need, 256, 1) < 0)
        return -1;
    st->mask = mask;
    st->cellcap = cap;
    return 0;
}

/* the skeleton of the line [s, e) written into d (of type T): each cell masked or copied */
#define WRITE_SKELETON(T)                                                                          \
    do {                                                                                           \
        T *w = (T *)d;                                                                             \
        Py_ssize_t from = s;                                                                       \
        for (Py_ssize_t c = 0; c < n_cells; c++) {                                                 \
            if (st->mask[c]) {                                                                     \
                *w++ = 0;                                                                          \
                *w++ = (T)st->mask[c];                                                             \
            }                                                                                      \
            else                                                                                   \
                for (Py_ssize_t q = from; q < st->cell[c]; q++)                                    \
                    *w++ = (T)u[q];                                                                \
            if (st->cell[c] < e)                                                                   \
                *w++ = '\t';                                                                       \
            from = st->cell[c] + 1;                                                                \
        }                                                                                          \
    } while (0)

static int
grow_ucs4(Py_UCS4 **p, Py_ssize_t *cap, Py_ssize_t need)
{
    void *q = *p;
    int r = grow(&q, cap, need, 1024, sizeof(Py_UCS4));
    *p = q;
    return r;
}

typedef struct {
    uint32_t bytes, tabs, digit, year, month, day, dbl;
    Py_UCS4 max; /* the largest character (the line's str kind) */
} Flags;

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* what one branch-free pass over a line's characters finds (vectorised by the compiler: no
 * dependency between iterations but the sums; AVX2 where the processor has it) */
VECTOR_CLONES static void
line_flags(const Py_UCS4 *u, Py_ssize_t n, Flags *out)
{
    uint32_t tabs = 0, has_digit = 0, year = 0, month = 0, day = 0, dbl = 0;
    uint32_t bytes = 0; /* UTF-8 (a text is at most MAX_TEXT characters) */
    Py_UCS4 max = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = u[i];
        max = c > max ? c : max;
        bytes += 1 + (c >= 0x80) + (c >= 0x800) + (c >= 0x10000);
        tabs += c == '\t';
        has_digit |= (c - '0') <= 9u;
        year |= c == 0x5e74; /* 年 */
        month |= c == 0x6708; /* 月 */
        day |= c == 0x65e5; /* 日 */
    }
    if (!tabs)
        for (Py_ssize_t i = 1; i < n; i++)
            dbl |= (u[i] == ' ') & (u[i - 1] == ' ');
    out->bytes = bytes;
    out->tabs = tabs;
    out->digit = has_digit;
    out->year = year;
    out->month = month;
    out->day = day;
    out->dbl = dbl;
    out->max = max;
}

/* the line [s, e) of the text as a str: made of its largest character's kind (as
 * PyUnicode_Substring makes it, without looking for that character again); from u when from_u
 * (the text's characters moved: u is no longer a copy of the str at the same places) */
static PyObject *
line_str(PyObject *text, const Py_UCS4 *u, Py_ssize_t s, Py_ssize_t e, Py_UCS4 max, int from_u)
{
    if (e - s <= 1) { /* the empty and one-character singletons */
        if (!from_u)
            return PyUnicode_Substring(text, s, e);
        return e == s ? PyUnicode_New(0, 0) : PyUnicode_FromOrdinal((int)u[s]);
    }
    PyObject *r = PyUnicode_New(e - s, max);
    if (r == NULL)
        return NULL;
    int kind = PyUnicode_KIND(r);
    void *d = PyUnicode_DATA(r);
    if (!from_u && kind == PyUnicode_KIND(text))
        memcpy(d, (const char *)PyUnicode_DATA(text) + s * kind, (size_t)((e - s) * kind));
    else if (kind == PyUnicode_1BYTE_KIND)
        for (Py_ssize_t i = s; i < e; i++)
            ((Py_UCS1 *)d)[i - s] = (Py_UCS1)u[i];
    else if (kind == PyUnicode_2BYTE_KIND)
        for (Py_ssize_t i = s; i < e; i++)
            ((Py_UCS2 *)d)[i - s] = (Py_UCS2)u[i];
    else
        memcpy(d, u + s, (size_t)(e - s) * sizeof(Py_UCS4));
    return r;
}

/* one line [s, e) of the text, index idx in it, row st->row of the chunk: 1 read, 0 a bad line
 * (the text is left to the per-report path: a line over max_line_chars, one with max_cells tabs or
 * more, a double space on a line without a tab), -1 an error */
static int
scan_line(const Conf *cf, State *st, PyObject *text, const Py_UCS4 *u, Py_ssize_t s, Py_ssize_t e,
          int64_t idx, int64_t rid)
{
    Buf *b = st->b;
    if (e - s > cf->max_line_chars)
        return 0;
    Flags fl;
    line_flags(u + s, e - s, &fl);
    uint32_t tabs = fl.tabs, has_digit = fl.digit, year = fl.year, month = fl.month, day = fl.day, dbl = fl.dbl;
    uint32_t bytes = fl.bytes;
    if ((tabs && tabs >= cf->max_cells) || (!tabs && dbl))
        return 0;
    int tab = tabs > 0;
    /* the first and last characters that are not a space or tab (fs > ls: a blank line) */
    Py_ssize_t fs = s, ls = e - 1;
    while (fs < e && is_ws(u[fs]))
        fs++;
    while (ls >= fs && is_ws(u[ls]))
        ls--;
    int64_t row = st->row++;
    int64_t masked = 0;
    /* the line's str: made for every line but a row of number cells that no reader of a line's text
     * picks (not a heading, period, text or mark line): None for those (bulk._own_lines makes them
     * from the text when a rare path reads one) */
    PyObject *raw = NULL;
    int keep = 0;
    if (put_i64(&b[B_RIDS], rid) < 0 || put_i64(&b[B_FIRST], st->cells) < 0)
        return -1;
    if (s == e) {
        raw = line_str(text, u, s, e, fl.max, st->from_u);
        if (raw == NULL)
            return -1;
        if (PyList_Append(st->raws, raw) < 0 || PyList_Append(st->skel, raw) < 0 || put_i64(&b[B_NUMBERS], 0) < 0)
            goto fail;
        Py_DECREF(raw);
        return 1;
    }
    if (fs > ls)
        fs = ls = -1;
    /* a heading line: _HEADING_START, no tab once stripped, at most head_max characters stripped */
    if (fs >= 0 && (is_cn_num(u[fs]) || u[fs] == '#' || u[fs] == '*') && ls - fs + 1 <= cf->head_max) {
        int inner_tab = 0;
        for (Py_ssize_t i = fs; i <= ls; i++)
            if (u[i] == '\t') {
                inner_tab = 1;
                break;
            }
        if (!inner_tab) {
            keep = 1;
            if (put_u32(&b[B_HEADS], (uint32_t)row) < 0)
                goto fail;
        }
    }
    if (idx < cf->period_lines && year && month && day) {
        keep = 1;
        if (put_u32(&b[B_PERIODS], (uint32_t)row) < 0)
            goto fail;
    }
    /* a line of text: no tab, not blank */
    if (!tab && fs >= 0) {
        keep = 1;
        raw = line_str(text, u, s, e, fl.max, st->from_u);
        if (raw == NULL)
            return -1;
        int ends = 0;
        for (int k = 0; k < cf->n_ends; k++)
            if (u[ls] == cf->ends[k]) {
                ends = 1;
                break;
            }
        int64_t width = bytes - (fs - s) - (e - 1 - ls); /* spaces and tabs are one byte each */
        if (put_i64(&b[B_PROSE], row) < 0 || put_i64(&b[B_OPEN], st->open) < 0 || put_u8(&b[B_ENDS], (uint8_t)ends) < 0
            || put_u8(&b[B_BLOCK], (uint8_t)starts_block(u, fs, e)) < 0 || put_i64(&b[B_WIDTH], width) < 0
            || put_i64(&b[B_NO], idx + 1) < 0 || PyList_Append(st->prose_raw, raw) < 0)
            goto fail;
        st->open += !ends;
    }
    /* a label line that may print a format's mark */
    if ((tab || (e - s <= cf->label_max && u[e - 1] != 0x3002)) && has_mark(cf, u, s, e)) {
        keep = 1;
        if (put_i64(&b[B_MARKROWS], row) < 0)
            goto fail;
    }
    /* the number cells, and the skeleton with each masked */
    PyObject *sk = NULL;
    if (has_digit) {
        /* the cells (split at tabs), each a number masked or kept: their ends in st->cell, their
         * masks in st->mask (0: kept) */
        Py_ssize_t n_cells = 0, out = 0, cs = s;
        if (grow_cells(st, e - s + 1) < 0)
            goto fail;
        for (Py_ssize_t i = s; i <= e; i++) {
            if (i < e && u[i] != '\t')
                continue;
            int dot;
            char mask = 0;
            if (is_number_cell(u, cs, i, &dot)) {
                Py_ssize_t len = i - cs;
                mask = dot ? 'D' : len >= 5 ? 'L' : 'S';
                masked++;
                if (!dot && len <= cf->plain_digits && (len == 1 || u[cs] != '0')) {
                    int64_t v = 0;
                    for (Py_ssize_t q = cs; q < i; q++)
                        v = v * 10 + (int64_t)(u[q] - '0');
                    if (put_f64(&b[B_VALUES], (double)v) < 0
                        || put_u8(&b[B_STATES], v == 0 ? cf->zero_code : cf->value_code) < 0)
                        goto fail;
                }
                else {
                    /* read by fast.read_code in Python */
                    PyObject *cell = st->from_u ? PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, u + cs, i - cs)
                                                : PyUnicode_Substring(text, cs, i);
                    if (cell == NULL)
                        goto fail;
                    PyObject *pair = Py_BuildValue("(LN)", (long long)st->cells, cell);
                    if (pair == NULL)
                        goto fail;
                    int r = PyList_Append(st->odd, pair);
                    Py_DECREF(pair);
                    if (r < 0 || put_f64(&b[B_VALUES], Py_NAN) < 0 || put_u8(&b[B_STATES], cf->value_code) < 0)
                        goto fail;
                }
                st->cells++;
            }
            st->cell[n_cells] = i;
            st->mask[n_cells++] = mask;
            out += (mask ? 2 : i - cs) + (i < e);
            cs = i + 1;
        }
        if (masked) {
            /* of the line's kind: a masked cell is ASCII digits, so every other character is kept */
            sk = PyUnicode_New(out, fl.max);
            if (sk == NULL)
                goto fail;
            void *d = PyUnicode_DATA(sk);
            switch (PyUnicode_KIND(sk)) {
            case PyUnicode_1BYTE_KIND:
                WRITE_SKELETON(Py_UCS1);
                break;
            case PyUnicode_2BYTE_KIND:
                WRITE_SKELETON(Py_UCS2);
                break;
            default:
                WRITE_SKELETON(Py_UCS4);
            }
        }
    }
    if ((keep || !masked) && raw == NULL) {
        raw = line_str(text, u, s, e, fl.max, st->from_u);
        if (raw == NULL) {
            Py_XDECREF(sk);
            return -1;
        }
    }
    if (put_i64(&b[B_NUMBERS], masked) < 0 || PyList_Append(st->raws, raw ? raw : Py_None) < 0
        || PyList_Append(st->skel, sk ? sk : raw) < 0) {
        Py_XDECREF(sk);
        goto fail;
    }
    Py_XDECREF(sk);
    Py_XDECREF(raw);
    return 1;
fail:
    Py_XDECREF(raw);
    return -1;
}

static void
conf_free(Conf *cf)
{
    for (int m = 0; m < cf->n_marks; m++)
        PyMem_Free(cf->marks[m]);
    cf->n_marks = 0;
}

static int
conf_marks(Conf *cf, PyObject *marks, PyObject *ends)
{
    PyObject *seq = PySequence_Fast(marks, "marks must be a sequence of str");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_MARKS) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "too many marks");
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *m = PySequence_Fast_GET_ITEM(seq, k);
        if (!PyUnicode_Check(m) || PyUnicode_GET_LENGTH(m) == 0) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "a mark must be a non-empty str");
            return -1;
        }
        Py_UCS4 *buf = PyUnicode_AsUCS4Copy(m);
        if (buf == NULL) {
            Py_DECREF(seq);
            return -1;
        }
        cf->marks[cf->n_marks] = buf;
        unsigned h = first_slot(buf[0]);
        while (cf->first_marks[h] && cf->first[h] != buf[0])
            h = (h + 1) & (FIRST_SLOTS - 1);
        cf->first[h] = buf[0];
        cf->first_marks[h] |= (uint64_t)1 << k;
        cf->mark_len[cf->n_marks++] = PyUnicode_GET_LENGTH(m);
        for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(m); i++)
            if (is_ws(buf[i]) || buf[i] == '\n') {
                Py_DECREF(seq);
                PyErr_SetString(PyExc_ValueError, "a mark holds a space, tab or LF");
                return -1;
            }
    }
    Py_DECREF(seq);
    if (!PyUnicode_Check(ends) || PyUnicode_GET_LENGTH(ends) > MAX_ENDS) {
        PyErr_SetString(PyExc_ValueError, "ends must be a str of at most 64 characters");
        return -1;
    }
    cf->n_ends = (int)PyUnicode_GET_LENGTH(ends);
    for (int k = 0; k < cf->n_ends; k++)
        cf->ends[k] = PyUnicode_READ_CHAR(ends, k);
    return 0;
}

static const Py_UCS4 *
find_char(const Py_UCS4 *p, Py_ssize_t n, Py_UCS4 c)
{
    if (sizeof(wchar_t) == sizeof(Py_UCS4))
        return (const Py_UCS4 *)wmemchr((const wchar_t *)p, (wchar_t)c, (size_t)n);
    for (Py_ssize_t i = 0; i < n; i++)
        if (p[i] == c)
            return p + i;
    return NULL;
}

/* the lines of one text (st->u[0..len)), one after the other: 1 read, 0 left to the per-report
 * path (fewer than max_lines line breaks, and no bad line: what was added of it taken back), -1 an
 * error */
static int
scan_text(const Conf *cf, State *st, PyObject *text, Py_ssize_t len, int64_t rid)
{
    Py_ssize_t saved[N_BUFS];
    for (int k = 0; k < N_BUFS; k++)
        saved[k] = st->b[k].n;
    Py_ssize_t n_raws = PyList_GET_SIZE(st->raws), n_odd = PyList_GET_SIZE(st->odd);
    Py_ssize_t n_prose = PyList_GET_SIZE(st->prose_raw);
    int64_t row = st->row, cells = st->cells, open = st->open;
    const Py_UCS4 *u = st->u;
    Py_ssize_t s = 0;
    int r = 1;
    for (int64_t idx = 0;; idx++) {
        if (idx >= cf->max_lines) { /* max_lines line breaks or more */
            r = 0;
            break;
        }
        const Py_UCS4 *lf = find_char(u + s, len - s, '\n');
        Py_ssize_t e = lf ? lf - u : len;
        r = scan_line(cf, st, text, u, s, e, idx, rid);
        if (r <= 0 || lf == NULL)
            break;
        s = e + 1;
    }
    if (r != 0)
        return r;
    for (int k = 0; k < N_BUFS; k++)
        st->b[k].n = saved[k];
    st->row = row;
    st->cells = cells;
    st->open = open;
    if (PyList_SetSlice(st->raws, n_raws, PY_SSIZE_T_MAX, NULL) < 0
        || PyList_SetSlice(st->skel, n_raws, PY_SSIZE_T_MAX, NULL) < 0
        || PyList_SetSlice(st->odd, n_odd, PY_SSIZE_T_MAX, NULL) < 0
        || PyList_SetSlice(st->prose_raw, n_prose, PY_SSIZE_T_MAX, NULL) < 0)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- the texts' rejection
 *
 * bulk._REJECT is a class of single characters (bulk._REJECT_CHARS: C0 controls, line breaks
 * other than LF, a pipe, the traditional and NFKC-risky characters, a decimal digit other than
 * 0-9, whitespace other than space, tab and LF) or a Markdown line start (bulk._REJECT_LINES:
 * spaces, then # or **).  The class is read through a table of the Basic Multilingual Plane that
 * polars' own regex wrote (bulk._char_classes: each character matched alone against
 * _REJECT_CHARS): bit 0 a rejected character, bit 1 one polars must read (a lone surrogate: polars
 * cannot hold it), bit 2 # or * (the line starts are looked at only in a text with one).  A
 * character beyond the BMP is one polars must read too.
 */

static int
markdown_line(const void *data, int kind, Py_ssize_t n)
{
    int start = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '\n') {
            start = 1;
            continue;
        }
        if (!start)
            continue;
        if (c == ' ')
            continue;
        start = 0;
        if (c == '#' || (c == '*' && i + 1 < n && PyUnicode_READ(kind, data, i + 1) == '*'))
            return 1;
    }
    return 0;
}

/* the length of the text once read as bulk._text reads it (each CRLF an LF, the last LF dropped) */
static Py_ssize_t
lf_length(const void *data, int kind, Py_ssize_t n)
{
    Py_ssize_t out = n;
    for (Py_ssize_t i = 0; i + 1 < n; i++)
        if (PyUnicode_READ(kind, data, i) == '\r' && PyUnicode_READ(kind, data, i + 1) == '\n')
            out--;
    return out - (n > 0 && PyUnicode_READ(kind, data, n - 1) == '\n');
}

/* bit 0 of the table over the text's characters but the CR of each CRLF (read as an LF; every
 * character within the table) */
static unsigned
rejected_but_crlf(const uint8_t *table, const void *data, int kind, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '\r' && i + 1 < n && PyUnicode_READ(kind, data, i + 1) == '\n')
            continue;
        if (table[c] & 1)
            return 1;
    }
    return 0;
}

PyDoc_STRVAR(classify_doc,
"classify(texts, table, max_chars)\n"
"--\n\n"
"Per text (as decoded: read as bulk._text reads it, each CRLF an LF and the last LF dropped) a\n"
"byte: 0 read on, 1 rejected (over max_chars characters, or bulk._REJECT matches), 2 to be read\n"
"by polars (a character beyond the table).");

static PyObject *
classify(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *texts;
    Py_buffer tb;
    Py_ssize_t max_chars;
    if (!PyArg_ParseTuple(args, "O!y*n", &PyList_Type, &texts, &tb, &max_chars))
        return NULL;
    PyObject *out = NULL;
    if (tb.len != 0x10000) {
        PyErr_SetString(PyExc_ValueError, "the table must have 65536 bytes");
        goto done;
    }
    const uint8_t *table = tb.buf;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL)
        goto done;
    char *res = PyBytes_AS_STRING(out);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *text = PyList_GET_ITEM(texts, k);
        if (!PyUnicode_Check(text)) {
            Py_CLEAR(out);
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            goto done;
        }
        Py_ssize_t len = PyUnicode_GET_LENGTH(text);
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        if (len > max_chars && lf_length(data, kind, len) > max_chars) {
            res[k] = 1;
            continue;
        }
        unsigned f = 0;
        if (kind == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *p = data;
            for (Py_ssize_t i = 0; i < len; i++)
                f |= table[p[i]];
        }
        else if (kind == PyUnicode_2BYTE_KIND) {
            const Py_UCS2 *p = data;
            for (Py_ssize_t i = 0; i < len; i++)
                f |= table[p[i]];
        }
        else {
            const Py_UCS4 *p = data;
            for (Py_ssize_t i = 0; i < len; i++)
                f |= p[i] < 0x10000 ? table[p[i]] : 2u;
        }
        if ((f & 3) == 1) /* a rejected character: the CR of a CRLF is not one (read as an LF) */
            f = (f & ~1u) | rejected_but_crlf(table, data, kind, len);
        /* (a CR before an LF ends no line start: the line starts are the LF text's) */
        res[k] = (f & 2) ? 2 : (f & 1) ? 1 : ((f & 4) && markdown_line(data, kind, len)) ? 1 : 0;
    }
done:
    PyBuffer_Release(&tb);
    return out;
}

PyDoc_STRVAR(scan_doc,
"scan(texts, ok, max_lines, max_line_chars, max_cells_per_row, period_lines, label_line_max,\n"
"     heading_max, plain_digits, zero_code, value_code, marks, ends)\n"
"--\n\n"
"The lines of the texts flagged in ``ok`` (bytes, one per text) that may be read in bulk; see\n"
"nianbao.read.bulk._frame_c for the tuple it returns.");

static PyObject *
scan(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *texts, *marks, *ends;
    Py_buffer ok;
    Conf cf;
    memset(&cf, 0, sizeof cf);
    int zero_code, value_code;
    if (!PyArg_ParseTuple(args, "O!y*nnnnnnniiOU", &PyList_Type, &texts, &ok, &cf.max_lines, &cf.max_line_chars,
                          &cf.max_cells, &cf.period_lines, &cf.label_max, &cf.head_max, &cf.plain_digits, &zero_code,
                          &value_code, &marks, &ends))
        return NULL;
    cf.zero_code = (uint8_t)zero_code;
    cf.value_code = (uint8_t)value_code;
    State st;
    memset(&st, 0, sizeof st);
    PyObject *result = NULL, *accepted = NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    if (cf.plain_digits > 18) {
        PyErr_SetString(PyExc_ValueError, "plain_digits over 18");
        goto done;
    }
    if (ok.len != n) {
        PyErr_SetString(PyExc_ValueError, "ok must have one byte per text");
        goto done;
    }
    if (conf_marks(&cf, marks, ends) < 0)
        goto done;
    accepted = PyByteArray_FromStringAndSize(NULL, n);
    st.raws = PyList_New(0);
    st.skel = PyList_New(0);
    st.odd = PyList_New(0);
    st.prose_raw = PyList_New(0);
    if (accepted == NULL || st.raws == NULL || st.skel == NULL || st.odd == NULL || st.prose_raw == NULL)
        goto done;
    char *acc = PyByteArray_AS_STRING(accepted);
    const char *okp = ok.buf;
    for (Py_ssize_t k = 0; k < n; k++) {
        acc[k] = 0;
        if (!okp[k])
            continue;
        PyObject *text = PyList_GET_ITEM(texts, k);
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            goto done;
        }
        Py_INCREF(text); /* the list may change under a callback (none here, but cheap) */
        Py_ssize_t len = PyUnicode_GET_LENGTH(text);
        if (len > MAX_TEXT) {
            Py_DECREF(text);
            PyErr_SetString(PyExc_ValueError, "a text too long for the scan");
            goto done;
        }
        if (grow_ucs4(&st.u, &st.ucap, len + 1) < 0 || PyUnicode_AsUCS4(text, st.u, st.ucap, 0) == NULL) {
            Py_DECREF(text);
            goto done;
        }
        /* as bulk._text reads it: each CRLF an LF (in place: then the lines are read from u), the last
         * LF dropped */
        st.from_u = 0;
        if (find_char(st.u, len, '\r') != NULL) {
            Py_ssize_t w = 0;
            for (Py_ssize_t i = 0; i < len; i++)
                if (!(st.u[i] == '\r' && i + 1 < len && st.u[i + 1] == '\n'))
                    st.u[w++] = st.u[i];
            st.from_u = w < len;
            len = w;
        }
        if (len > 0 && st.u[len - 1] == '\n')
            len--;
        int r = scan_text(&cf, &st, text, len, (int64_t)k);
        Py_DECREF(text);
        if (r < 0)
            goto done;
        acc[k] = (char)r;
    }
    if (put_i64(&st.b[B_FIRST], st.cells) < 0)
        goto done;
    /* accepted, rids, raws, skel, numbers, heads, periods, prose, open_ends, ends, block, width,
     * prose_no, mark_rows, first_number, values, states, odd, prose_raw */
    static const int order[] = {-1, B_RIDS, -2, -3, B_NUMBERS, B_HEADS, B_PERIODS, B_PROSE, B_OPEN, B_ENDS, B_BLOCK,
                                B_WIDTH, B_NO, B_MARKROWS, B_FIRST, B_VALUES, B_STATES, -4, -5};
    PyObject *out = PyTuple_New(19);
    if (out == NULL)
        goto done;
    for (int k = 0; k < 19; k++) {
        PyObject *it;
        switch (order[k]) {
        case -1: it = accepted; Py_INCREF(it); break;
        case -2: it = st.raws; Py_INCREF(it); break;
        case -3: it = st.skel; Py_INCREF(it); break;
        case -4: it = st.odd; Py_INCREF(it); break;
        case -5: it = st.prose_raw; Py_INCREF(it); break;
        default: it = buf_take(&st.b[order[k]]);
        }
        if (it == NULL) {
            Py_DECREF(out);
            goto done;
        }
        PyTuple_SET_ITEM(out, k, it);
    }
    result = out;
done:
    PyBuffer_Release(&ok);
    conf_free(&cf);
    for (int k = 0; k < N_BUFS; k++)
        PyMem_Free(st.b[k].p);
    PyMem_Free(st.u);
    PyMem_Free(st.cell);
    PyMem_Free(st.mask);
    Py_XDECREF(st.raws);
    Py_XDECREF(st.skel);
    Py_XDECREF(st.odd);
    Py_XDECREF(st.prose_raw);
    Py_XDECREF(accepted);
    return result;
}

/* ---------------------------------------------------------------- the prose of the reports read
 *
 * sections() gives what bulk._fill_prose reads of each report's sections (meta.fill_sections'
 * prose, meta.unwrapped of the prose sections) from the scan's lines of text, for a whole chunk at
 * once: per report its parts in statutory order (each a range of the chunk's lines of text between
 * two heading lines: as printed, without section 二's block headers, or unwrapped), then its 引言
 * (the non-blank lines above its first heading, as printed).  A line is stripped of spaces and tabs
 * only (an accepted text has no other whitespace: str.strip() strips those).  The output text is
 * the pieces' characters copied into a str of the largest kind among the strs they are cut from:
 * the canonical kind, as str.join makes it (a str holds a character of its kind's range, and a
 * piece loses only spaces and tabs at its ends: that character stays in it).
 */

typedef struct {
    PyObject *t;
    Py_ssize_t s, e;
} Piece;

typedef struct {
    Piece *pieces;
    Py_ssize_t n_pieces, cap;
    Py_ssize_t n; /* characters */
    Py_UCS4 max;
    Buf nos, lens;
} Out;

/* the output emptied (its pieces' strs released) */
static void
out_reset(Out *o)
{
    for (Py_ssize_t k = 0; k < o->n_pieces; k++)
        Py_DECREF(o->pieces[k].t);
    o->n = o->n_pieces = o->nos.n = o->lens.n = 0;
    o->max = 0;
}

/* the characters [s, e) of str t appended to the output (a reference to t held until out_reset) */
static int
out_chars(Out *o, PyObject *t, Py_ssize_t s, Py_ssize_t e)
{
    if (e <= s)
        return 0;
    void *p = o->pieces;
    if (grow(&p, &o->cap, o->n_pieces + 1, 64, sizeof(Piece)) < 0)
        return -1;
    o->pieces = p;
    Py_INCREF(t);
    o->pieces[o->n_pieces++] = (Piece){t, s, e};
    o->n += e - s;
    Py_UCS4 m = PyUnicode_MAX_CHAR_VALUE(t);
    if (m > o->max)
        o->max = m;
    return 0;
}

/* the output's text as a str */
static PyObject *
out_text(Out *o)
{
    PyObject *r = PyUnicode_New(o->n, o->max);
    if (r == NULL)
        return NULL;
    int rk = PyUnicode_KIND(r);
    char *w = PyUnicode_DATA(r);
    for (Py_ssize_t k = 0; k < o->n_pieces; k++) {
        Piece *pc = &o->pieces[k];
        Py_ssize_t n = pc->e - pc->s;
        int tk = PyUnicode_KIND(pc->t);
        const char *d = (const char *)PyUnicode_DATA(pc->t) + pc->s * tk;
        if (tk == rk)
            memcpy(w, d, (size_t)(n * tk));
        else if (tk == PyUnicode_1BYTE_KIND && rk == PyUnicode_2BYTE_KIND)
            for (Py_ssize_t i = 0; i < n; i++)
                ((Py_UCS2 *)w)[i] = ((const Py_UCS1 *)d)[i];
        else if (tk == PyUnicode_1BYTE_KIND)
            for (Py_ssize_t i = 0; i < n; i++)
                ((Py_UCS4 *)w)[i] = ((const Py_UCS1 *)d)[i];
        else
            for (Py_ssize_t i = 0; i < n; i++)
                ((Py_UCS4 *)w)[i] = ((const Py_UCS2 *)d)[i];
        w += n * rk;
    }
    return r;
}

/* [*s, *e) of t without the spaces and tabs at either end */
static void
stripped(PyObject *t, Py_ssize_t *s, Py_ssize_t *e)
{
    int kind = PyUnicode_KIND(t);
    const void *data = PyUnicode_DATA(t);
    Py_ssize_t a = 0, b = PyUnicode_GET_LENGTH(t);
    while (a < b && is_ws(PyUnicode_READ(kind, data, a)))
        a++;
    while (b > a && is_ws(PyUnicode_READ(kind, data, b - 1)))
        b--;
    *s = a;
    *e = b;
}

static int
blank(PyObject *t)
{
    Py_ssize_t s, e;
    stripped(t, &s, &e);
    return s == e;
}

/* a line of the output: str t (whole or stripped), its line number */
static int
out_line(Out *o, PyObject *t, int strip, int64_t no)
{
    if (!PyUnicode_Check(t)) {
        PyErr_SetString(PyExc_TypeError, "lines must be str");
        return -1;
    }
    Py_ssize_t s = 0, e = PyUnicode_GET_LENGTH(t);
    if (strip)
        stripped(t, &s, &e);
    if (out_chars(o, t, s, e) < 0 || put_u32(&o->nos, (uint32_t)no) < 0
        || put_u32(&o->lens, (uint32_t)(e - s)) < 0)
        return -1;
    return 0;
}

/* the stripped text of t appended to the output's last line */
static int
out_join(Out *o, PyObject *t)
{
    Py_ssize_t s, e;
    stripped(t, &s, &e);
    if (out_chars(o, t, s, e) < 0)
        return -1;
    uint32_t last;
    memcpy(&last, o->lens.p + o->lens.n - sizeof last, sizeof last);
    last += (uint32_t)(e - s);
    memcpy(o->lens.p + o->lens.n - sizeof last, &last, sizeof last);
    return 0;
}

PyDoc_STRVAR(sections_doc,
"sections(plan, prose_raw, raws, prose_no, width, ends, block, open_ends, after, at, block_header,\n"
"         wrap_min_width, wrap_full)\n"
"--\n\n"
"Per report of ``plan`` (int64: its first line, its first heading's line, its first heading's\n"
"index in after/at, its end among the lines of text, its count of parts, then per part the\n"
"heading's index, the next one's (-1: none), how it is read: 0 as printed, 1 without the lines\n"
"block_header(text) says are block headers, 2 unwrapped), (counts, line numbers, lengths: uint32\n"
"bytes, text): bulk._fill_prose's sections.");

static PyObject *
sections(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer pb, nob, wb, eb, bb, ob, afb, atb;
    PyObject *prose_raw, *raws, *block_header;
    Py_ssize_t wrap_min;
    double wrap_full;
    if (!PyArg_ParseTuple(args, "y*O!O!y*y*y*y*y*y*y*Ond", &pb, &PyList_Type, &prose_raw, &PyList_Type, &raws, &nob,
                          &wb, &eb, &bb, &ob, &afb, &atb, &block_header, &wrap_min, &wrap_full))
        return NULL;
    PyObject *result = NULL, *list = NULL;
    Out o;
    memset(&o, 0, sizeof o);
    Buf counts;
    memset(&counts, 0, sizeof counts);
    const int64_t *plan = pb.buf, *no = nob.buf, *width = wb.buf, *open = ob.buf, *after = afb.buf, *at = atb.buf;
    const uint8_t *ends = eb.buf, *block = bb.buf;
    Py_ssize_t n_plan = pb.len / 8, n_prose = PyList_GET_SIZE(prose_raw), n_raws = PyList_GET_SIZE(raws);
    Py_ssize_t n_heads = afb.len / 8;
    if (nob.len / 8 != n_prose || wb.len / 8 != n_prose || eb.len != n_prose || bb.len != n_prose
        || ob.len / 8 != n_prose || atb.len / 8 != n_heads) {
        PyErr_SetString(PyExc_ValueError, "the lines of text's arrays differ in length");
        goto done;
    }
#define BAD_PLAN                                                   \
    do {                                                           \
        PyErr_SetString(PyExc_ValueError, "a plan out of bounds"); \
        goto done;                                                 \
    } while (0)
    list = PyList_New(0);
    if (list == NULL)
        goto done;
    for (Py_ssize_t q = 0; q < n_plan;) {
        if (q + 5 > n_plan)
            BAD_PLAN;
        int64_t a = plan[q], intro_end = plan[q + 1], h = plan[q + 2], end = plan[q + 3], n_parts = plan[q + 4];
        q += 5;
        if (a < 0 || intro_end < a || intro_end > n_raws || h < 0 || end < 0 || end > n_prose || n_parts < 0
            || q + 3 * n_parts > n_plan)
            BAD_PLAN;
        out_reset(&o);
        counts.n = 0;
        for (int64_t k = 0; k < n_parts; k++, q += 3) {
            int64_t j = plan[q], nj = plan[q + 1], how = plan[q + 2];
            if (h + j >= n_heads || (nj >= 0 && h + nj >= n_heads) || j < 0)
                BAD_PLAN;
            int64_t lo = after[h + j], hi = nj >= 0 ? at[h + nj] : end;
            if (lo < 0 || hi > n_prose || hi > PyList_GET_SIZE(prose_raw))
                BAD_PLAN;
            Py_ssize_t before = o.lens.n;
            if (how == 2 && hi - lo >= 2 && open[hi - 1] != open[lo]) {
                /* meta.unwrapped: the widest line, the margin, then each line joined to the one before
                 * when that one ran to the margin (unless it ended a sentence and this one starts a block) */
                int64_t widest = 0, wide_before_last = 0;
                for (int64_t p = lo; p < hi; p++) {
                    if (width[p] > widest)
                        widest = width[p];
                    if (p < hi - 1 && width[p] > wide_before_last)
                        wide_before_last = width[p];
                }
                if (widest < wrap_min) {
                    for (int64_t p = lo; p < hi; p++)
                        if (out_line(&o, PyList_GET_ITEM(prose_raw, p), 0, no[p]) < 0)
                            goto done;
                }
                else {
                    double full = wrap_full * (double)widest;
                    int join = (double)wide_before_last >= full;
                    for (int64_t p = lo; p < hi; p++) {
                        PyObject *t = PyList_GET_ITEM(prose_raw, p);
                        if (join && p > lo && (double)width[p - 1] >= full && !(block[p] && ends[p - 1])) {
                            if (out_join(&o, t) < 0)
                                goto done;
                        }
                        else if (out_line(&o, t, 1, no[p]) < 0)
                            goto done;
                    }
                }
            }
            else {
                for (int64_t p = lo; p < hi; p++) {
                    if (p >= PyList_GET_SIZE(prose_raw)) /* (a callback below could change the list) */
                        BAD_PLAN;
                    PyObject *t = PyList_GET_ITEM(prose_raw, p);
                    if (how == 1) {
                        PyObject *r = PyObject_CallOneArg(block_header, t);
                        if (r == NULL)
                            goto done;
                        int skip = PyObject_IsTrue(r);
                        Py_DECREF(r);
                        if (skip < 0)
                            goto done;
                        if (skip)
                            continue;
                    }
                    if (out_line(&o, t, 0, no[p]) < 0)
                        goto done;
                }
            }
            if (put_u32(&counts, (uint32_t)((o.lens.n - before) / 4)) < 0)
                goto done;
        }
        /* the 引言: the non-blank lines above the first heading, as printed */
        if (intro_end > PyList_GET_SIZE(raws))
            BAD_PLAN;
        Py_ssize_t before = o.lens.n;
        for (int64_t r = a; r < intro_end; r++) {
            PyObject *t = PyList_GET_ITEM(raws, r);
            if (!PyUnicode_Check(t)) {
                PyErr_SetString(PyExc_TypeError, "lines must be str");
                goto done;
            }
            if (!blank(t) && out_line(&o, t, 0, r - a + 1) < 0)
                goto done;
        }
        if (put_u32(&counts, (uint32_t)((o.lens.n - before) / 4)) < 0)
            goto done;
        PyObject *text = out_text(&o);
        if (text == NULL)
            goto done;
        PyObject *item = Py_BuildValue("(y#y#y#N)", counts.p ? counts.p : "", counts.n, o.nos.p ? o.nos.p : "",
                                       o.nos.n, o.lens.p ? o.lens.p : "", o.lens.n, text);
        if (item == NULL)
            goto done;
        int r = PyList_Append(list, item);
        Py_DECREF(item);
        if (r < 0)
            goto done;
    }
#undef BAD_PLAN
    result = list;
    list = NULL;
done:
    Py_XDECREF(list);
    out_reset(&o);
    PyMem_Free(o.pieces);
    PyMem_Free(o.nos.p);
    PyMem_Free(o.lens.p);
    PyMem_Free(counts.p);
    PyBuffer_Release(&pb);
    PyBuffer_Release(&nob);
    PyBuffer_Release(&wb);
    PyBuffer_Release(&eb);
    PyBuffer_Release(&bb);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&afb);
    PyBuffer_Release(&atb);
    return result;
}

/* ---------------------------------------------------------------- the cells of the reports read
 *
 * cells() gives what bulk._fill_cells_numpy makes of a chunk's reports read (each report's row of the
 * cell arrays, its layout facts' lines), by plain loops instead of tens of numpy passes: each
 * report's row copied from its plan's (the cells printed the same in every report of the plan), its
 * values' lines moved by its windows' starts, its number cells read from the chunk's (its window's
 * first number cell plus the cell's rank), its facts' lines.  Every index is checked.
 */

#define GET_BUF(b, type, count, what)                                                              \
    do {                                                                                           \
        if ((b).len % (Py_ssize_t)sizeof(type)) {                                                  \
            PyErr_SetString(PyExc_ValueError, what " has a partial item");                         \
            goto done;                                                                             \
        }                                                                                          \
        count = (b).len / (Py_ssize_t)sizeof(type);                                                \
    } while (0)

PyDoc_STRVAR(cells_doc,
"cells(width, gid, offs, first, first_number, values, states, odd, col, value, state, line, win,\n"
"      n_num, npos, nwin, nrank, n_fact, fact_win, fact_li)\n"
"--\n\n"
"Per report (its plan gid, its three windows' starts offs, its first line first) the rows of the\n"
"cell arrays: (values f64, states u8, lines u32, cols u16: each width a report), the facts' lines\n"
"(u32, as many a report as the widest plan has facts) and the (report, position, cell) of the number\n"
"cells odd names; see bulk._fill_cells.");

static PyObject *
cells(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t width;
    Py_buffer b[19];
    memset(b, 0, sizeof b);
    int got = 0;
    PyObject *result = NULL, *hits = NULL;
    PyObject *o_val = NULL, *o_st = NULL, *o_ln = NULL, *o_col = NULL, *o_fact = NULL;
    if (!PyArg_ParseTuple(args, "ny*y*y*y*y*y*y*y*y*y*y*y*y*y*y*y*y*y*y*", &width, &b[0], &b[1], &b[2], &b[3], &b[4],
                          &b[5], &b[6], &b[7], &b[8], &b[9], &b[10], &b[11], &b[12], &b[13], &b[14], &b[15], &b[16],
                          &b[17], &b[18]))
        return NULL;
    got = 1;
    Py_ssize_t n, n3, nf, L1, C, C2, C3, GW[5], G, G2, GM[3], G3, GF[2];
    GET_BUF(b[0], int64_t, n, "gid");
    GET_BUF(b[1], int64_t, n3, "offs");
    GET_BUF(b[2], int64_t, nf, "first");
    GET_BUF(b[3], int64_t, L1, "first_number");
    GET_BUF(b[4], double, C, "values");
    GET_BUF(b[5], uint8_t, C2, "states");
    GET_BUF(b[6], uint8_t, C3, "odd");
    GET_BUF(b[7], uint16_t, GW[0], "col");
    GET_BUF(b[8], double, GW[1], "value");
    GET_BUF(b[9], uint8_t, GW[2], "state");
    GET_BUF(b[10], int64_t, GW[3], "line");
    GET_BUF(b[11], int64_t, GW[4], "win");
    GET_BUF(b[12], int64_t, G, "n_num");
    GET_BUF(b[13], int64_t, GM[0], "npos");
    GET_BUF(b[14], int64_t, GM[1], "nwin");
    GET_BUF(b[15], int64_t, GM[2], "nrank");
    GET_BUF(b[16], int64_t, G2, "n_fact");
    GET_BUF(b[17], int64_t, GF[0], "fact_win");
    GET_BUF(b[18], int64_t, GF[1], "fact_li");
    (void)G3;
    if (width <= 0 || n3 != 3 * n || nf != n || C2 != C || (C3 != C && C3 != 0) || G2 != G || G == 0) {
        PyErr_SetString(PyExc_ValueError, "cells: arrays of unlike lengths");
        goto done;
    }
    for (int k = 0; k < 5; k++)
        if (GW[k] != G * width) {
            PyErr_SetString(PyExc_ValueError, "cells: a plan row of another width");
            goto done;
        }
    if (GM[0] % G || GM[1] != GM[0] || GM[2] != GM[0] || GF[0] % G || GF[1] != GF[0]) {
        PyErr_SetString(PyExc_ValueError, "cells: plans' number cells or facts of unlike lengths");
        goto done;
    }
    Py_ssize_t M = GM[0] / G, F = GF[0] / G;
    if (n > PY_SSIZE_T_MAX / 8 / width || (F && n > PY_SSIZE_T_MAX / 4 / F)) {
        PyErr_NoMemory();
        goto done;
    }
    const int64_t *gid = b[0].buf, *offs = b[1].buf, *first = b[2].buf, *first_number = b[3].buf;
    const double *vin = b[4].buf;
    const uint8_t *sin = b[5].buf, *odd = C3 ? b[6].buf : NULL;
    const uint16_t *t_col = b[7].buf;
    const double *t_val = b[8].buf;
    const uint8_t *t_state = b[9].buf;
    const int64_t *t_line = b[10].buf, *t_win = b[11].buf, *n_num = b[12].buf, *npos = b[13].buf, *nwin = b[14].buf;
    const int64_t *nrank = b[15].buf, *n_fact = b[16].buf, *fwin = b[17].buf, *fli = b[18].buf;
    o_val = PyByteArray_FromStringAndSize(NULL, n * width * 8);
    o_st = PyByteArray_FromStringAndSize(NULL, n * width);
    o_ln = PyByteArray_FromStringAndSize(NULL, n * width * 4);
    o_col = PyByteArray_FromStringAndSize(NULL, n * width * 2);
    o_fact = PyByteArray_FromStringAndSize(NULL, n * F * 4);
    hits = PyList_New(0);
    if (!o_val || !o_st || !o_ln || !o_col || !o_fact || !hits)
        goto done;
    double *val = (double *)PyByteArray_AS_STRING(o_val);
    uint8_t *st = (uint8_t *)PyByteArray_AS_STRING(o_st);
    uint32_t *ln = (uint32_t *)PyByteArray_AS_STRING(o_ln);
    uint16_t *col = (uint16_t *)PyByteArray_AS_STRING(o_col);
    uint32_t *fact = (uint32_t *)PyByteArray_AS_STRING(o_fact);
#define BAD(msg)                                       \
    do {                                               \
        PyErr_SetString(PyExc_ValueError, "cells: " msg); \
        goto done;                                     \
    } while (0)
    for (Py_ssize_t r = 0; r < n; r++) {
        int64_t g = gid[r];
        if (g < 0 || g >= G)
            BAD("a plan out of range");
        const int64_t *off = offs + 3 * r;
        Py_ssize_t row = r * width, prow = g * width;
        memcpy(val + row, t_val + prow, (size_t)width * sizeof(double));
        memcpy(st + row, t_state + prow, (size_t)width);
        memcpy(col + row, t_col + prow, (size_t)width * sizeof(uint16_t));
        for (Py_ssize_t p = 0; p < width; p++) {
            int64_t li = t_line[prow + p], w = t_win[prow + p];
            if (w < 0 || w > 2)
                BAD("a window out of range");
            int64_t v = li > 0 ? li + off[w] : 0;
            if (v < 0 || v > UINT32_MAX)
                BAD("a line out of range");
            ln[row + p] = (uint32_t)v;
        }
        int64_t nn = n_num[g];
        if (nn < 0 || nn > M)
            BAD("a count of number cells out of range");
        for (int64_t i = 0; i < nn; i++) {
            int64_t pos = npos[g * M + i], w = nwin[g * M + i];
            if (pos < 0 || pos >= width || w < 0 || w > 2)
                BAD("a number cell out of range");
            int64_t line = first[r] + off[w];
            if (line < 0 || line >= L1)
                BAD("a window's line out of range");
            int64_t at = first_number[line] + nrank[g * M + i];
            if (at < 0 || at >= C)
                BAD("a number cell's rank out of range");
            val[row + pos] = vin[at];
            st[row + pos] = sin[at];
            if (odd && odd[at]) {
                PyObject *t = Py_BuildValue("(nLL)", r, (long long)pos, (long long)at);
                if (t == NULL || PyList_Append(hits, t) < 0) {
                    Py_XDECREF(t);
                    goto done;
                }
                Py_DECREF(t);
            }
        }
        int64_t nfk = n_fact[g];
        if (nfk < 0 || nfk > F)
            BAD("a count of facts out of range");
        for (Py_ssize_t f = 0; f < F; f++) {
            int64_t w = f < nfk ? fwin[g * F + f] : -1, v = 0;
            if (w > 2)
                BAD("a fact's window out of range");
            if (w >= 0)
                v = off[w] + fli[g * F + f] + 1;
            if (v < 0 || v > UINT32_MAX)
                BAD("a fact's line out of range");
            fact[r * F + f] = (uint32_t)v;
        }
    }
#undef BAD
    result = Py_BuildValue("(OOOOOO)", o_val, o_st, o_ln, o_col, o_fact, hits);
done:
    Py_XDECREF(o_val);
    Py_XDECREF(o_st);
    Py_XDECREF(o_ln);
    Py_XDECREF(o_col);
    Py_XDECREF(o_fact);
    Py_XDECREF(hits);
    if (got)
        for (int k = 0; k < 19; k++)
            PyBuffer_Release(&b[k]);
    return result;
}

/* ---------------------------------------------------------------- the skeleton key's windows
 *
 * windows() gives the three windows of a report's skeleton key (bulk._read_one: the skeleton lines of
 * each table's window joined by LF) as str objects kept from an earlier report whose windows were the
 * same: each window's lines are hashed (a mix of their code points, four lanes), the slot of that hash
 * in a process-wide direct-mapped cache holds the last window joined there, and it is given only when
 * the lines equal it exactly (compared character by character: a collision never gives another
 * window); else the lines are joined (str.join) and kept in the slot.  The window's str is then the
 * same object report after report: its hash is computed once, the plan look-up compares it by
 * identity.  The cache holds at most WSLOTS strings (~1-2 KB each).
 */

#define WSLOTS 4096
typedef struct {
    uint64_t h;
    PyObject *text;
} WSlot;
static WSlot wslots[WSLOTS];

static inline uint64_t
mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* the hash of the lines [s, e) of skel: each line's bytes (a str's kind is its content's: the same
 * lines have the same bytes), length and kind, eight bytes a step; -1 when one is no str */
static int
window_hash(PyObject *skel, Py_ssize_t s, Py_ssize_t e, uint64_t *out)
{
    uint64_t h = mix64((uint64_t)(e - s) + 0x51ED27);
    for (Py_ssize_t i = s; i < e; i++) {
        PyObject *t = PyList_GET_ITEM(skel, i);
        if (!PyUnicode_Check(t)) {
            PyErr_SetString(PyExc_TypeError, "skeleton lines must be str");
            return -1;
        }
        Py_ssize_t nb = PyUnicode_GET_LENGTH(t) * PyUnicode_KIND(t), j = 0;
        const unsigned char *d = PyUnicode_DATA(t);
        uint64_t l0 = (uint64_t)nb * 0x9E3779B97F4A7C15ULL + (uint64_t)PyUnicode_KIND(t), l1 = 0x2545F4914F6CDD1DULL;
        for (; j + 16 <= nb; j += 16) {
            uint64_t x, y;
            memcpy(&x, d + j, 8);
            memcpy(&y, d + j + 8, 8);
            l0 = (l0 ^ x) * 0xC2B2AE3D27D4EB4FULL;
            l1 = (l1 ^ y) * 0x165667B19E3779F9ULL;
        }
        if (j < nb) {
            uint64_t x = 0, y = 0;
            Py_ssize_t rest = nb - j;
            memcpy(&x, d + j, (size_t)(rest < 8 ? rest : 8));
            if (rest > 8)
                memcpy(&y, d + j + 8, (size_t)(rest - 8));
            l0 = (l0 ^ x) * 0xC2B2AE3D27D4EB4FULL;
            l1 = (l1 ^ y) * 0x165667B19E3779F9ULL;
        }
        h = mix64(h ^ l0 ^ mix64(l1));
    }
    *out = h;
    return 0;
}

#define SAME_CHARS(A, B)                                                                           \
    do {                                                                                           \
        const A *x = (const A *)d;                                                                 \
        const B *y = (const B *)td + pos;                                                          \
        Py_UCS4 diff = 0;                                                                          \
        for (Py_ssize_t j = 0; j < n; j++)                                                         \
            diff |= (Py_UCS4)x[j] ^ (Py_UCS4)y[j];                                                 \
        if (diff)                                                                                  \
            return 0;                                                                              \
    } while (0)

/* whether the lines [s, e) of skel joined by LF are exactly text */
static int
window_equals(PyObject *skel, Py_ssize_t s, Py_ssize_t e, PyObject *text)
{
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), pos = 0;
    int tk = PyUnicode_KIND(text);
    const void *td = PyUnicode_DATA(text);
    for (Py_ssize_t i = s; i < e; i++) {
        PyObject *t = PyList_GET_ITEM(skel, i);
        Py_ssize_t n = PyUnicode_GET_LENGTH(t);
        if (i > s) {
            if (pos >= len || PyUnicode_READ(tk, td, pos) != '\n')
                return 0;
            pos++;
        }
        if (n > len - pos)
            return 0;
        int k = PyUnicode_KIND(t);
        const void *d = PyUnicode_DATA(t);
        if (k == tk) {
            if (memcmp((const char *)td + pos * tk, d, (size_t)(n * k)) != 0)
                return 0;
        }
        else if (k > tk) /* a character of the line beyond the text's kind */
            return 0;
        else if (k == PyUnicode_1BYTE_KIND && tk == PyUnicode_2BYTE_KIND)
            SAME_CHARS(Py_UCS1, Py_UCS2);
        else if (k == PyUnicode_1BYTE_KIND)
            SAME_CHARS(Py_UCS1, Py_UCS4);
        else
            SAME_CHARS(Py_UCS2, Py_UCS4);
        pos += n;
    }
    return pos == len;
}

/* a new reference to the window's str: the slot's when the lines equal it, else the lines joined */
static PyObject *
window(PyObject *skel, Py_ssize_t s, Py_ssize_t e, uint64_t mask)
{
    Py_ssize_t n = PyList_GET_SIZE(skel);
    if (s < 0 || e < s || e > n) {
        PyErr_SetString(PyExc_IndexError, "a window out of the skeleton lines");
        return NULL;
    }
    uint64_t h;
    if (window_hash(skel, s, e, &h) < 0)
        return NULL;
    h &= mask;
    WSlot *slot = &wslots[h & (WSLOTS - 1)];
    if (slot->text != NULL && slot->h == h && window_equals(skel, s, e, slot->text)) {
        Py_INCREF(slot->text);
        return slot->text;
    }
    PyObject *lines = PyList_GetSlice(skel, s, e);
    if (lines == NULL)
        return NULL;
    PyObject *sep = PyUnicode_FromOrdinal('\n');
    PyObject *joined = sep ? PyUnicode_Join(sep, lines) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(lines);
    if (joined == NULL)
        return NULL;
    PyObject *old = slot->text;
    Py_INCREF(joined);
    slot->text = joined;
    slot->h = h;
    Py_XDECREF(old);
    return joined;
}

PyDoc_STRVAR(windows_doc,
"windows(skel, s2, e2, s3, e3, s4, e4, mask=-1)\n"
"--\n\n"
"The skeleton lines skel[s:e] of each of the three windows joined by LF ('\\n'.join, exactly), each\n"
"the str kept from an earlier report when its lines are the same (mask: the hash's bits used, for\n"
"the tests: 0 makes every window share one slot).");

static PyObject *
windows(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *skel;
    Py_ssize_t b[6];
    unsigned long long mask = ~0ULL;
    if (!PyArg_ParseTuple(args, "O!nnnnnn|K", &PyList_Type, &skel, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &mask))
        return NULL;
    PyObject *out = PyTuple_New(3);
    if (out == NULL)
        return NULL;
    for (int k = 0; k < 3; k++) {
        PyObject *w = window(skel, b[2 * k], b[2 * k + 1], (uint64_t)mask);
        if (w == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, k, w);
    }
    return out;
}

/* ---------------------------------------------------------------- the distinct lines of prose
 *
 * distinct() numbers the distinct (section, text) pairs of a chunk's prose lines for the text
 * rules (rules.prose.text.prose_texts), straight from the reports' packed texts: no str, bytes or
 * Arrow value per line.  A line is hashed over its code points (a line of a 1-byte or 4-byte str
 * whose characters all fit in 2 bytes is first copied as 2-byte units, so the same text hashes
 * alike in strs of any kind); two lines are the same text only when their section codes, lengths
 * and every character are equal (a hash match alone never merges two texts).  Pairs are numbered
 * by their first line; each distinct text is written once as UTF-8 (a lone surrogate, which UTF-8
 * cannot hold: None, the caller takes another path).  Linear in the chunk's characters (plus the
 * comparisons of lines whose hashes collide).
 */

typedef struct {
    int kind;
    const char *data; /* its first character */
    Py_ssize_t len;
    uint32_t sec;
    uint64_t h;
} DText;

static inline uint64_t
dmix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

/* a hash of n bytes (their units' width mixed in by seed) */
static uint64_t
dhash(const char *p, Py_ssize_t n, uint64_t seed)
{
    uint64_t h = seed ^ ((uint64_t)n * 0xC2B2AE3D27D4EB4FULL), w;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = dmix(h, w);
    }
    if (i < n) {
        w = 0;
        memcpy(&w, p + i, (size_t)(n - i));
        h = dmix(h, w);
    }
    return h ^ (h >> 32);
}

static int
dsame(const DText *a, const DText *b)
{
    if (a->sec != b->sec || a->len != b->len)
        return 0;
    if (a->kind == b->kind)
        return memcmp(a->data, b->data, (size_t)(a->len * a->kind)) == 0;
    for (Py_ssize_t i = 0; i < a->len; i++)
        if (PyUnicode_READ(a->kind, a->data, i) != PyUnicode_READ(b->kind, b->data, i))
            return 0;
    return 1;
}

/* one code point's UTF-8 at w; past it */
static inline unsigned char *
dput(unsigned char *w, Py_UCS4 c)
{
    if (c < 0x80)
        *w++ = (unsigned char)c;
    else if (c < 0x800) {
        *w++ = (unsigned char)(0xC0 | (c >> 6));
        *w++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    else if (c < 0x10000) {
        *w++ = (unsigned char)(0xE0 | (c >> 12));
        *w++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *w++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    else {
        *w++ = (unsigned char)(0xF0 | (c >> 18));
        *w++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        *w++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *w++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    return w;
}

/* the text's UTF-8 appended to b; 1 when it holds a surrogate (nothing usable written) */
static int
dutf8(Buf *b, const DText *t)
{
    void *p = b->p;
    if (grow(&p, &b->cap, b->n + 4 * t->len + 1, 1 << 16, 1) < 0)
        return -1;
    b->p = p;
    unsigned char *w = (unsigned char *)b->p + b->n;
    if (t->kind == PyUnicode_2BYTE_KIND) { /* (most texts: the same, without a read by kind) */
        const Py_UCS2 *u = (const Py_UCS2 *)t->data;
        for (Py_ssize_t i = 0; i < t->len; i++) {
            Py_UCS2 c = u[i];
            if (c < 0x80)
                *w++ = (unsigned char)c;
            else if (c >= 0xD800 && c <= 0xDFFF)
                return 1;
            else
                w = dput(w, c);
        }
    }
    else
        for (Py_ssize_t i = 0; i < t->len; i++) {
            Py_UCS4 c = PyUnicode_READ(t->kind, t->data, i);
            if (c >= 0xD800 && c <= 0xDFFF)
                return 1;
            w = dput(w, c);
        }
    b->n = (Py_ssize_t)((char *)w - b->p);
    return 0;
}

/* 1 when one of the words (their first characters' bits in starts) is in the text, else 0 */
static int
dflag(const DText *t, const uint8_t *starts, PyObject *words)
{
    Py_ssize_t n_words = PyTuple_GET_SIZE(words);
    int two = t->kind == PyUnicode_2BYTE_KIND;
    for (Py_ssize_t i = 0; i < t->len; i++) {
        Py_UCS4 c = two ? ((const Py_UCS2 *)t->data)[i] : PyUnicode_READ(t->kind, t->data, i);
        if (c > 0xFFFF || !(starts[c >> 3] & (1u << (c & 7))))
            continue;
        for (Py_ssize_t w = 0; w < n_words; w++) {
            PyObject *word = PyTuple_GET_ITEM(words, w);
            Py_ssize_t m = PyUnicode_GET_LENGTH(word), j = 0;
            int wk = PyUnicode_KIND(word);
            const void *wd = PyUnicode_DATA(word);
            if (m > t->len - i)
                continue;
            while (j < m && PyUnicode_READ(wk, wd, j) == PyUnicode_READ(t->kind, t->data, i + j))
                j++;
            if (j == m)
                return 1;
        }
    }
    return 0;
}

/* the text's characters mapped by table (below U+10000; -1: dropped) appended to b as UTF-8 */
static int
dmapped(Buf *b, const DText *t, const int32_t *table)
{
    void *p = b->p;
    if (grow(&p, &b->cap, b->n + 4 * t->len + 1, 1 << 16, 1) < 0)
        return -1;
    b->p = p;
    unsigned char *w = (unsigned char *)b->p + b->n;
    if (t->kind == PyUnicode_2BYTE_KIND) /* (most texts: the same, without a read by kind) */
        for (Py_ssize_t i = 0; i < t->len; i++) {
            int32_t m = table[((const Py_UCS2 *)t->data)[i]];
            if (m >= 0x80)
                w = dput(w, (Py_UCS4)m);
            else if (m >= 0)
                *w++ = (unsigned char)m;
        }
    else
        for (Py_ssize_t i = 0; i < t->len; i++) {
            Py_UCS4 c = PyUnicode_READ(t->kind, t->data, i);
            int32_t m = c < 0x10000 ? table[c] : (int32_t)c;
            if (m >= 0)
                w = dput(w, (Py_UCS4)m);
        }
    b->n = (Py_ssize_t)((char *)w - b->p);
    return 0;
}

PyDoc_STRVAR(distinct_doc,
"distinct(docs, lengths, per_doc, kept, sections, mask=~0, words=(), table=b'', /)\n"
"--\n\n"
"The distinct (section, text) pairs of the lines of ``docs`` (strs; each its lines joined: the\n"
"lines' ``lengths`` int64, ``per_doc`` lines each, int64), of the lines ``kept`` (uint8) says, whose\n"
"section codes are ``sections`` (uint32, one a kept line): (the pair's number of each kept line,\n"
"uint32; the kept line each pair is first seen at, int64; the pairs' texts as UTF-8, joined; their\n"
"offsets there, int64, one more than pairs), or None when a text holds a lone surrogate.  ``mask``\n"
"is ANDed into every hash (tests pass 0: every line's hash collides).  With ``words`` (strs of\n"
"characters below U+10000) and ``table`` (int32, one a code point below U+10000: its replacement,\n"
"-1 to drop it; a surrogate only itself: a text with one is refused anyway), also (uint8 a pair:\n"
"its text holds one of the words; those texts' characters\n"
"mapped by the table as UTF-8, joined; their offsets, int64).");

static PyObject *
distinct(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *docs;
    Py_buffer lb, pb, kb, sb;
    unsigned long long hmask = ~0ULL;
    PyObject *words = NULL;
    Py_buffer tb = {0};
    if (!PyArg_ParseTuple(args, "O!y*y*y*y*|KO!y*", &PyList_Type, &docs, &lb, &pb, &kb, &sb, &hmask, &PyTuple_Type,
                          &words, &tb))
        return NULL;
    const int32_t *map = tb.buf;
    uint8_t *starts = NULL, *flags = NULL; /* (a bit a code point: some word starts with it) */
    int64_t *moffs = NULL;
    Buf mapped;
    memset(&mapped, 0, sizeof mapped);
    Py_ssize_t n_words = words ? PyTuple_GET_SIZE(words) : 0;
    PyObject *result = NULL;
    DText *dt = NULL;
    uint32_t *table = NULL, *tids = NULL;
    int64_t *first = NULL, *offs = NULL;
    char *tmp = NULL;
    Py_ssize_t tmp_cap = 0, n_dt = 0, dt_cap = 0;
    Buf utf;
    memset(&utf, 0, sizeof utf);
    const int64_t *lens = lb.buf, *per_doc = pb.buf;
    const uint8_t *kept = kb.buf;
    const uint32_t *secs = sb.buf;
    Py_ssize_t n_lines = lb.len / 8, n_docs = PyList_GET_SIZE(docs), n_kept = sb.len / 4;
    if (lb.len % 8 || pb.len % 8 || sb.len % 4 || pb.len / 8 != n_docs || kb.len != n_lines) {
        PyErr_SetString(PyExc_ValueError, "the lines' arrays differ in length");
        goto done;
    }
    if (n_words) {
        if (tb.len != 0x10000 * 4) {
            PyErr_SetString(PyExc_ValueError, "the table is not one int32 a code point below U+10000");
            goto done;
        }
        starts = PyMem_Calloc(0x10000 / 8, 1);
        if (starts == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t w = 0; w < n_words; w++) {
            PyObject *word = PyTuple_GET_ITEM(words, w);
            if (!PyUnicode_Check(word) || PyUnicode_GET_LENGTH(word) == 0 || PyUnicode_MAX_CHAR_VALUE(word) > 0xFFFF) {
                PyErr_SetString(PyExc_ValueError, "a word is not a str of characters below U+10000");
                goto done;
            }
            Py_UCS4 c = PyUnicode_READ_CHAR(word, 0);
            starts[c >> 3] |= (uint8_t)(1u << (c & 7));
        }
        for (Py_ssize_t c = 0; c < 0x10000; c++)
            if (map[c] < -1 || map[c] > 0x10FFFF || (map[c] >= 0xD800 && map[c] <= 0xDFFF && map[c] != c)) {
                PyErr_SetString(PyExc_ValueError, "a table entry is no code point");
                goto done;
            }
    }
    Py_ssize_t size = 16;
    while (size < 2 * n_kept)
        size *= 2;
    uint64_t mask = (uint64_t)size - 1;
    table = PyMem_Calloc((size_t)size, sizeof *table);
    tids = PyMem_Malloc((size_t)(n_kept ? n_kept : 1) * sizeof *tids);
    first = PyMem_Malloc((size_t)(n_kept ? n_kept : 1) * sizeof *first);
    if (table == NULL || tids == NULL || first == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t line = 0, k = 0;
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        PyObject *doc = PyList_GET_ITEM(docs, d);
        if (!PyUnicode_Check(doc)) {
            PyErr_SetString(PyExc_TypeError, "docs must be str");
            goto done;
        }
        int kind = PyUnicode_KIND(doc);
        const char *data = PyUnicode_DATA(doc);
        Py_ssize_t doc_len = PyUnicode_GET_LENGTH(doc), pos = 0;
        if (per_doc[d] < 0 || per_doc[d] > n_lines - line) {
            PyErr_SetString(PyExc_ValueError, "more lines than lengths");
            goto done;
        }
        for (Py_ssize_t end = line + per_doc[d]; line < end; line++) {
            Py_ssize_t n = lens[line];
            if (n < 0 || n > doc_len - pos) {
                PyErr_SetString(PyExc_ValueError, "a line beyond its doc");
                goto done;
            }
            DText t = {kind, data + pos * kind, n, 0, 0};
            pos += n;
            if (!kept[line])
                continue;
            if (k >= n_kept) {
                PyErr_SetString(PyExc_ValueError, "more kept lines than sections");
                goto done;
            }
            t.sec = secs[k];
            /* the hash over 2-byte units when every character fits in one, else over 4-byte ones */
            const char *u = t.data;
            int width = kind;
            if (kind != 2) {
                Py_UCS4 top = 0;
                if (kind == 4)
                    for (Py_ssize_t i = 0; i < n; i++)
                        top |= ((const Py_UCS4 *)u)[i];
                if (top < 0x10000) {
                    void *q = tmp;
                    if (grow(&q, &tmp_cap, 2 * n + 2, 256, 1) < 0)
                        goto done;
                    tmp = q;
                    for (Py_ssize_t i = 0; i < n; i++)
                        ((Py_UCS2 *)tmp)[i] = (Py_UCS2)PyUnicode_READ(kind, u, i);
                    u = tmp;
                    width = 2;
                }
            }
            t.h = dhash(u, n * width, (uint64_t)width * 0x165667B19E3779F9ULL ^ (uint64_t)t.sec) & hmask;
            uint64_t s = t.h & mask;
            uint32_t got;
            while ((got = table[s]) != 0 && !(dt[got - 1].h == t.h && dsame(&dt[got - 1], &t)))
                s = (s + 1) & mask;
            if (got == 0) {
                void *q = dt;
                if (grow(&q, &dt_cap, n_dt + 1, 1024, sizeof *dt) < 0)
                    goto done;
                dt = q;
                dt[n_dt] = t;
                first[n_dt] = k;
                got = table[s] = (uint32_t)++n_dt;
            }
            tids[k++] = got - 1;
        }
        if (pos != doc_len) {
            PyErr_SetString(PyExc_ValueError, "a doc's lines do not add up to it");
            goto done;
        }
    }
    if (line != n_lines || k != n_kept) {
        PyErr_SetString(PyExc_ValueError, "the lines do not add up");
        goto done;
    }
    offs = PyMem_Malloc((size_t)(n_dt + 1) * sizeof *offs);
    if (offs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    offs[0] = 0;
    Py_ssize_t n_flagged = 0;
    if (n_words) {
        flags = PyMem_Calloc((size_t)(n_dt ? n_dt : 1), 1);
        moffs = PyMem_Malloc((size_t)(n_dt + 1) * sizeof *moffs);
        if (flags == NULL || moffs == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        moffs[0] = 0;
    }
    for (Py_ssize_t i = 0; i < n_dt; i++) {
        int r = dutf8(&utf, &dt[i]);
        if (r < 0)
            goto done;
        if (r > 0) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        offs[i + 1] = utf.n;
        if (n_words) {
            r = dflag(&dt[i], starts, words);
            if (r > 0 && dmapped(&mapped, &dt[i], map) < 0)
                goto done;
            if (r > 0)
                moffs[++n_flagged] = mapped.n;
            flags[i] = (uint8_t)r;
        }
    }
    if (n_words)
        result = Py_BuildValue("(y#y#y#y#y#y#y#)", (const char *)tids, (Py_ssize_t)(k * 4), (const char *)first,
                               (Py_ssize_t)(n_dt * 8), utf.p ? utf.p : "", utf.n, (const char *)offs,
                               (Py_ssize_t)((n_dt + 1) * 8), (const char *)flags, n_dt,
                               mapped.p ? mapped.p : "", mapped.n, (const char *)moffs,
                               (Py_ssize_t)((n_flagged + 1) * 8));
    else
        result = Py_BuildValue("(y#y#y#y#)", (const char *)tids, (Py_ssize_t)(k * 4), (const char *)first,
                               (Py_ssize_t)(n_dt * 8), utf.p ? utf.p : "", utf.n, (const char *)offs,
                               (Py_ssize_t)((n_dt + 1) * 8));
done:
    PyMem_Free(dt);
    PyMem_Free(table);
    PyMem_Free(tids);
    PyMem_Free(first);
    PyMem_Free(offs);
    PyMem_Free(tmp);
    PyMem_Free(utf.p);
    PyMem_Free(starts);
    PyMem_Free(flags);
    PyMem_Free(moffs);
    PyMem_Free(mapped.p);
    if (tb.obj != NULL)
        PyBuffer_Release(&tb);
    PyBuffer_Release(&lb);
    PyBuffer_Release(&pb);
    PyBuffer_Release(&kb);
    PyBuffer_Release(&sb);
    return result;
}

static PyMethodDef methods[] = {
    {"classify", classify, METH_VARARGS, classify_doc},
    {"scan", scan, METH_VARARGS, scan_doc},
    {"sections", sections, METH_VARARGS, sections_doc},
    {"cells", cells, METH_VARARGS, cells_doc},
    {"windows", windows, METH_VARARGS, windows_doc},
    {"distinct", distinct, METH_VARARGS, distinct_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "nianbao.read.scan",
    .m_doc = "The bulk reader's line scan, compiled (see scan.c).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit_scan(void)
{
    return PyModule_Create(&module);
}
