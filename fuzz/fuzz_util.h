/*
 * fuzz_util.h - helpers the libFuzzer targets in fuzz/ share.
 *
 * Every target is one LLVMFuzzerTestOneInput; what they have in common is
 * here: a failed property aborts with a message (libFuzzer then saves the
 * input and prints the stack), inputs are cut into parts at a separator,
 * and a few independent oracles (UTF-8, a strict XML well-formedness check,
 * JSON equivalence that ignores integer/real spelling) that the targets
 * compare the project's results against.  The oracles are written from the
 * specifications, not from the code under test, so that a shared mistake
 * is unlikely.  Everything is static inline: each target is its own program.
 */
#ifndef SLUICE_FUZZ_UTIL_H
#define SLUICE_FUZZ_UTIL_H

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reports a broken property and aborts, so libFuzzer records the input. */
static inline void fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
static inline void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "\n==fuzz== property failed at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

#define FUZZ_CHECK(cond, ...)                                    \
    do {                                                         \
        if (!(cond))                                             \
            fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);          \
    } while (0)

/* A borrowed slice of the input. */
typedef struct fuzz_part {
    const char *p;
    size_t n;
} fuzz_part;

/* Cuts in[0..n) at the first occurrence of sep (a byte) into head and
 * tail; with no separator, tail is empty and has_sep false. */
static inline bool fuzz_split(const char *in, size_t n, char sep, fuzz_part *head,
                              fuzz_part *tail)
{
    const char *s = n ? memchr(in, sep, n) : NULL;

    if (!s) {
        *head = (fuzz_part){in, n};
        *tail = (fuzz_part){in + n, 0};
        return false;
    }
    *head = (fuzz_part){in, (size_t)(s - in)};
    *tail = (fuzz_part){s + 1, n - (size_t)(s - in) - 1};
    return true;
}

/* A NUL-terminated heap copy of a slice (the caller frees). */
static inline char *fuzz_strndup(const char *p, size_t n)
{
    char *s = malloc(n + 1);

    if (!s)
        abort();
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Well-formed UTF-8 per RFC 3629 (no overlongs, no surrogates, at most
 * U+10FFFF).  Written independently of core/codec.c's utf8_valid. */
static inline bool fuzz_utf8_ok(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Equal JSON values, where an integer and a real of the same numeric value
 * are the same number (JSON itself has one number type).  Object member
 * order is ignored, as JSON does. */
static inline bool fuzz_json_equiv(const json_t *a, const json_t *b, int depth)
{
    if (depth > 4096)
        return false;
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!fuzz_json_equiv(json_array_get(a, i), json_array_get(b, i), depth + 1))
                return false;
        return true;
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach((json_t *)a, k, v) {
            json_t *w = json_object_get(b, k);
            if (!w || !fuzz_json_equiv(v, w, depth + 1))
                return false;
        }
        return true;
    }
    default:
        return true; /* true, false, null */
    }
}

/* --- a strict XML well-formedness check --------------------------------
 *
 * Enough of XML 1.0 for what the Query writers emit: an optional <?xml ...?>
 * declaration, then one element tree of start tags (attributes in double
 * quotes), end tags and empty-element tags; text and attribute values may
 * hold only the predefined entities and character references to legal
 * characters; no characters XML forbids (C0 controls other than tab, LF
 * and CR) appear raw.  Returns NULL if well-formed, else a reason.
 * Element names are compared for nesting; depth is bounded. */

#define FUZZ_XML_MAX_DEPTH 256

static inline bool fuzz_xml_name_char(unsigned char c, bool first)
{
    if (c >= 0x80 || c == '_' || c == ':' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
        return true;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

/* Checks one reference starting at s[0] == '&'; returns its length or 0. */
static inline size_t fuzz_xml_ref(const char *s, size_t n)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++) {
        size_t l = strlen(named[i]);
        if (n >= l && memcmp(s, named[i], l) == 0)
            return l;
    }
    if (n < 4 || s[1] != '#')
        return 0;
    size_t i = 2;
    bool hex = s[2] == 'x';
    unsigned long cp = 0;
    if (hex)
        i++;
    size_t digits = 0;
    for (; i < n && s[i] != ';'; i++, digits++) {
        int c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return 0;
        cp = cp * (hex ? 16 : 10) + (unsigned long)d;
        if (cp > 0x10ffff)
            return 0;
    }
    if (i >= n || digits == 0)
        return 0;
    if (!(cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
          (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)))
        return 0;
    return i + 1;
}

/* Character data up to the next '<'; NULL if fine. */
static inline const char *fuzz_xml_text(const char *s, size_t n, size_t *used, char stop)
{
    size_t i = 0;
    while (i < n && s[i] != '<' && s[i] != stop) {
        unsigned char c = (unsigned char)s[i];
        if (c == '&') {
            size_t r = fuzz_xml_ref(s + i, n - i);
            if (!r)
                return "bad or unknown reference";
            i += r;
            continue;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return "forbidden control character";
        if (stop == 0 && c == '>' && i >= 2 && s[i - 1] == ']' && s[i - 2] == ']')
            return "']]>' in text";
        i++;
    }
    *used = i;
    return NULL;
}

static inline const char *fuzz_xml_check(const char *s, size_t n)
{
    const char *stack[FUZZ_XML_MAX_DEPTH];
    size_t stack_len[FUZZ_XML_MAX_DEPTH];
    size_t depth = 0, i = 0;
    bool root_seen = false;

    if (n >= 5 && memcmp(s, "<?xml", 5) == 0) {
        const char *e = NULL;
        for (size_t k = 5; k + 1 < n; k++)
            if (s[k] == '?' && s[k + 1] == '>') {
                e = s + k + 2;
                break;
            }
        if (!e)
            return "unterminated XML declaration";
        i = (size_t)(e - s);
    }
    while (i < n) {
        if (s[i] != '<') {
            size_t used = 0;
            const char *why = fuzz_xml_text(s + i, n - i, &used, 0);
            if (why)
                return why;
            if (depth == 0) {
                for (size_t k = 0; k < used; k++)
                    if (!strchr(" \t\r\n", s[i + k]))
                        return "text outside the root element";
            }
            i += used;
            continue;
        }
        i++;
        bool end = i < n && s[i] == '/';
        if (end)
            i++;
        size_t start = i;
        if (i >= n || !fuzz_xml_name_char((unsigned char)s[i], true))
            return "bad element name";
        while (i < n && fuzz_xml_name_char((unsigned char)s[i], false))
            i++;
        const char *name = s + start;
        size_t nlen = i - start;
        if (end) {
            while (i < n && strchr(" \t\r\n", s[i]))
                i++;
            if (i >= n || s[i] != '>')
                return "bad end tag";
            i++;
            if (depth == 0 || stack_len[depth - 1] != nlen ||
                memcmp(stack[depth - 1], name, nlen) != 0)
                return "end tag does not match";
            depth--;
            continue;
        }
        /* attributes */
        for (;;) {
            size_t ws = i;
            while (i < n && strchr(" \t\r\n", s[i]))
                i++;
            if (i >= n)
                return "unterminated start tag";
            if (s[i] == '>' || (s[i] == '/' && i + 1 < n && s[i + 1] == '>'))
                break;
            if (ws == i)
                return "attribute without preceding space";
            if (!fuzz_xml_name_char((unsigned char)s[i], true))
                return "bad attribute name";
            while (i < n && fuzz_xml_name_char((unsigned char)s[i], false))
                i++;
            if (i + 1 >= n || s[i] != '=' || s[i + 1] != '"')
                return "attribute without =\"value\"";
            i += 2;
            size_t used = 0;
            const char *why = fuzz_xml_text(s + i, n - i, &used, '"');
            if (why)
                return why;
            i += used;
            if (i >= n || s[i] != '"')
                return "bad attribute value";
            i++;
        }
        if (depth == 0 && root_seen)
            return "second root element";
        root_seen = true;
        if (s[i] == '/') {
            i += 2;
            continue;
        }
        i++;
        if (depth == FUZZ_XML_MAX_DEPTH)
            return "too deep";
        stack[depth] = name;
        stack_len[depth++] = nlen;
    }
    if (depth)
        return "unclosed element";
    if (!root_seen)
        return "no root element";
    return NULL;
}

/* Replaces the XML character data s[0..n) (no markup) by its decoded text
 * in out (which must hold n bytes); returns the decoded length.  Only the
 * references fuzz_xml_ref accepts occur in checked text. */
static inline size_t fuzz_xml_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '&') {
            out[o++] = s[i++];
            continue;
        }
        size_t r = fuzz_xml_ref(s + i, n - i);
        if (r == 5 && s[i + 1] == 'a') /* &amp; */
            out[o++] = '&';
        else if (r == 4 && s[i + 1] == 'l')
            out[o++] = '<';
        else if (r == 4 && s[i + 1] == 'g')
            out[o++] = '>';
        else if (r == 6 && s[i + 1] == 'q')
            out[o++] = '"';
        else if (r == 6 && s[i + 1] == 'a')
            out[o++] = '\'';
        else {
            unsigned long cp = strtoul(s + i + (s[i + 2] == 'x' ? 3 : 2), NULL,
                                       s[i + 2] == 'x' ? 16 : 10);
            /* Writers here only ever emit &#xD; so one byte is enough. */
            out[o++] = cp < 0x80 ? (char)cp : '?';
        }
        i += r ? r : 1;
    }
    return o;
}

#endif
