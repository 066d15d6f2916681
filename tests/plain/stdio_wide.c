/* Wide-character stdio on pipes, byte for byte: what fwprintf, fputws, fputwc and fgetws give
 * (return values, the bytes that come out, in order), whatever path a call takes inside
 * (text that stays in the buffer, a flush, text longer than a page, a null character, non-ASCII
 * characters in UTF-8, line-buffered and unbuffered streams), with several threads writing
 * lines to one stream at once and a reader that takes the bytes as they come. */
#define _GNU_SOURCE
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <wchar.h>

#include "plain.h"

enum { WRITERS = 4, LINES = 300, LONG = 5000 };

/* Collects everything that comes out of a pipe, in a thread. */
struct sink {
    int fd;
    char *data;
    size_t len;
};

static void *collect(void *arg)
{
    struct sink *s = arg;
    size_t cap = 1 << 16;
    s->data = malloc(cap);
    CHECK(s->data != NULL);
    for (;;) {
        if (cap - s->len < 4096) {
            cap *= 2;
            s->data = realloc(s->data, cap);
            CHECK(s->data != NULL);
        }
        ssize_t n = read(s->fd, s->data + s->len, cap - s->len);
        CHECK(n >= 0);
        if (n == 0)
            break;
        s->len += (size_t)n;
    }
    close(s->fd);
    return NULL;
}

/* A wide stream on a pipe whose other end a thread collects; mode as for setvbuf (-1: as it
 * comes); in UTF-8 when utf8 (the stream takes its conversion with its orientation). */
static FILE *wide_pipe(struct sink *s, pthread_t *th, int mode, int utf8)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    s->fd = p[0];
    s->len = 0;
    CHECK_EQ(pthread_create(th, NULL, collect, s), 0);
    FILE *f = fdopen(p[1], "w");
    CHECK(f != NULL);
    if (mode >= 0)
        CHECK_EQ(setvbuf(f, NULL, mode, 0), 0);
    CHECK(setlocale(LC_CTYPE, utf8 ? "C.UTF-8" : "C") != NULL);
    CHECK(fwide(f, 1) > 0);
    CHECK(setlocale(LC_CTYPE, "C") != NULL);
    return f;
}

static void finish(FILE *f, pthread_t th)
{
    CHECK_EQ(fclose(f), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
}

/* The payload of line k of writer w: short mostly, longer than a page now and then, with
 * non-ASCII letters in UTF-8. */
static size_t payload(int w, int k, int utf8, wchar_t *out)
{
    size_t n = k % 50 == 7 ? LONG : (size_t)(k * 7 + w) % 90;
    for (size_t i = 0; i < n; i++)
        out[i] = utf8 && i % 5 == 4 ? (wchar_t)(0x410 + (i + (size_t)k) % 32)
                                    : (wchar_t)('a' + (i + (size_t)(w * k)) % 26);
    out[n] = 0;
    return n;
}

static size_t utf8_encode(const wchar_t *s, size_t n, char *out)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)s[i];
        if (c < 0x80) {
            out[len++] = (char)c;
        } else {
            CHECK(c < 0x800);
            out[len++] = (char)(0xc0 | c >> 6);
            out[len++] = (char)(0x80 | (c & 0x3f));
        }
    }
    return len;
}

struct writer_arg {
    FILE *f;
    int w, utf8;
};

/* Writer w's lines "w k payload\n", by fwprintf, fputws and fputwc-per-character-under-the-
 * stream-lock in turn. */
static void *write_lines(void *arg)
{
    struct writer_arg *a = arg;
    static __thread wchar_t text[LONG + 1];
    for (int k = 0; k < LINES; k++) {
        size_t n = payload(a->w, k, a->utf8, text);
        switch (k % 3) {
        case 0: {
            int head = 0;
            char digits[32];
            head = snprintf(digits, sizeof digits, "%d %d ", a->w, k);
            CHECK_EQ(fwprintf(a->f, L"%d %d %ls\n", a->w, k, text), head + (int)n + 1);
            break;
        }
        case 1: {
            wchar_t line[LONG + 40];
            swprintf(line, sizeof line / sizeof *line, L"%d %d %ls\n", a->w, k, text);
            CHECK(fputws(line, a->f) >= 0);
            break;
        }
        default: {
            wchar_t line[LONG + 40];
            int len = swprintf(line, sizeof line / sizeof *line, L"%d %d %ls\n", a->w, k, text);
            flockfile(a->f);
            for (int i = 0; i < len; i++)
                CHECK_EQ(fputwc(line[i], a->f), (wint_t)line[i]);
            funlockfile(a->f);
            break;
        }
        }
    }
    return NULL;
}

/* Checks that the collected bytes are every writer's lines, each whole and in its order. */
static void check_lines(const struct sink *s, int utf8)
{
    int next[WRITERS] = {0};
    static wchar_t text[LONG + 1];
    static char want[2 * LONG + 64];
    size_t off = 0;
    while (off < s->len) {
        int w, k, used;
        CHECK(sscanf(s->data + off, "%d %d%n", &w, &k, &used) == 2);
        CHECK(s->data[off + (size_t)used] == ' ');
        used++;
        CHECK(w >= 0 && w < WRITERS);
        CHECK_EQ(k, next[w]);
        next[w]++;
        off += (size_t)used;
        size_t n = utf8_encode(text, payload(w, k, utf8, text), want);
        want[n++] = '\n';
        CHECK(off + n <= s->len);
        CHECK(memcmp(s->data + off, want, n) == 0);
        off += n;
    }
    for (int w = 0; w < WRITERS; w++)
        CHECK_EQ(next[w], LINES);
}

static void writers_at_once(int mode, int utf8)
{
    struct sink s;
    pthread_t reader, th[WRITERS];
    FILE *f = wide_pipe(&s, &reader, mode, utf8);
    struct writer_arg args[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        args[w] = (struct writer_arg){f, w, utf8};
        CHECK_EQ(pthread_create(&th[w], NULL, write_lines, &args[w]), 0);
    }
    check_os_threads();
    for (int w = 0; w < WRITERS; w++)
        CHECK_EQ(pthread_join(th[w], NULL), 0);
    finish(f, reader);
    check_lines(&s, utf8);
    free(s.data);
}

/* A null character is output like any other: fwprintf counts it, and the byte comes. */
static void null_character(void)
{
    struct sink s;
    pthread_t reader;
    FILE *f = wide_pipe(&s, &reader, -1, 0);
    CHECK_EQ(fwprintf(f, L"a%lcb%d", (wint_t)0, 42), 5);
    CHECK_EQ(fwprintf(f, L"%ls", L""), 0);
    CHECK_EQ(fputws(L"", f), 1);
    finish(f, reader);
    CHECK_EQ(s.len, 5);
    CHECK(memcmp(s.data, "a\0b42", 5) == 0);
    free(s.data);
}

/* A character that the C locale has no byte for: the stream's conversion transliterates it,
 * at the flush. */
static void transliterated(void)
{
    struct sink s;
    pthread_t reader;
    FILE *f = wide_pipe(&s, &reader, -1, 0);
    CHECK_EQ(fputws(L"ok ", f), 1);
    CHECK_EQ(fputwc(L'\u20ac', f), L'\u20ac');
    CHECK_EQ(fflush(f), 0);
    finish(f, reader);
    CHECK_EQ(s.len, 6);
    CHECK(memcmp(s.data, "ok EUR", 6) == 0);
    free(s.data);
}

/* fgetws over a pipe whose lines arrive in pieces, some with UTF-8 characters. */
static void *write_slowly(void *arg)
{
    int fd = *(int *)arg;
    const char *text = "first line\nsec" "\xd0\x96" "ond\nthi";
    for (const char *p = text; *p;) {
        size_t n = strlen(p) < 4 ? strlen(p) : 4;
        write_all(fd, p, n);
        p += n;
        sleep_ms(5);
    }
    write_all(fd, "rd\n", 3);
    close(fd);
    return NULL;
}

static void read_lines(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, write_slowly, &p[1]), 0);
    CHECK(setlocale(LC_CTYPE, "C.UTF-8") != NULL);
    FILE *f = fdopen(p[0], "r");
    CHECK(f != NULL);
    CHECK(fwide(f, 1) > 0);
    wchar_t line[64];
    CHECK(fgetws(line, 64, f) != NULL);
    CHECK(wcscmp(line, L"first line\n") == 0);
    CHECK(fgetws(line, 4, f) != NULL);
    CHECK(wcscmp(line, L"sec") == 0);
    CHECK_EQ(fgetwc(f), 0x416);
    CHECK(fgetws(line, 64, f) != NULL);
    CHECK(wcscmp(line, L"ond\n") == 0);
    CHECK(fgetws(line, 64, f) != NULL);
    CHECK(wcscmp(line, L"third\n") == 0);
    CHECK(fgetws(line, 64, f) == NULL);
    CHECK(feof(f));
    CHECK_EQ(fclose(f), 0);
    CHECK(setlocale(LC_CTYPE, "C") != NULL);
    CHECK_EQ(pthread_join(th, NULL), 0);
}

int main(void)
{
    for (int utf8 = 0; utf8 <= 1; utf8++) {
        writers_at_once(-1, utf8);
        writers_at_once(_IOLBF, utf8);
        writers_at_once(_IONBF, utf8);
    }
    null_character();
    transliterated();
    read_lines();
    puts("stdio_wide: ok");
    return 0;
}
