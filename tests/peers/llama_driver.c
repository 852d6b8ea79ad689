/* A small command-line driver of llama.cpp's prebuilt CPU libraries (tests/peers/llama_cpp_peer.py installs them),
 * so that tests can ask llama.cpp itself what it makes of a GGUF file. Built and run by llama_driver.py, whose
 * docstring documents the command line; this file is the C side of that contract.
 *
 *   llama_driver [--lib-dir DIR] [--verbose] [--no-mmap] tokenize GGUF [--no-special] [--parse-special]
 *   llama_driver ... detokenize GGUF [--keep-special] [--no-unparse-special]
 *   llama_driver ... logits GGUF --tokens 1,2,3 --out FILE[.npy] [--threads N] [--ctx N] [--llama-defaults]
 *   llama_driver ... generate GGUF --tokens 1,2,3 -n N [--threads N] [--ctx N] [--ignore-eos] [--llama-defaults]
 *   llama_driver ... info GGUF [--vocab-only]
 *   llama_driver ... bench GGUF [--threads T] [-p P] [-n N] [-r R] [--fa off|on|auto]
 *
 * Text crosses stdin/stdout as one JSON value per line. Strings are UTF-8; a byte that is not part of valid UTF-8
 * travels as a lone surrogate \udc80..\udcff (Python's "surrogateescape"), so any byte string fits both ways.
 * Errors print "llama_driver: ..." on stderr and exit 1. llama.cpp's own log goes to stderr (warnings and errors
 * only, unless --verbose).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "ggml-backend.h"
#include "llama.h"

static int g_verbose = 0;
static int g_no_mmap = 0;

static void die(const char * fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("llama_driver: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void * xmalloc(size_t n) {
    void * p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static void * xrealloc(void * p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static void log_cb(enum ggml_log_level level, const char * text, void * user) {
    (void) user;
    /* CONT lines continue the previous message; print them only when everything is printed. */
    if (g_verbose || level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

/* ---------- growable byte buffer and JSON helpers ---------- */

typedef struct {
    char * data;
    size_t len, cap;
} buf_t;

static void buf_push(buf_t * b, const char * s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

static void buf_putc(buf_t * b, char c) { buf_push(b, &c, 1); }

static void buf_utf8(buf_t * b, uint32_t cp) {
    char s[4];
    if (cp < 0x80) {
        s[0] = (char) cp;
        buf_push(b, s, 1);
    } else if (cp < 0x800) {
        s[0] = (char) (0xC0 | (cp >> 6));
        s[1] = (char) (0x80 | (cp & 0x3F));
        buf_push(b, s, 2);
    } else if (cp < 0x10000) {
        s[0] = (char) (0xE0 | (cp >> 12));
        s[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        s[2] = (char) (0x80 | (cp & 0x3F));
        buf_push(b, s, 3);
    } else {
        s[0] = (char) (0xF0 | (cp >> 18));
        s[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        s[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        s[3] = (char) (0x80 | (cp & 0x3F));
        buf_push(b, s, 4);
    }
}

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0 if the first byte does not start one. */
static size_t utf8_valid_len(const unsigned char * s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Appends the bytes s[0..n) as a JSON string literal; invalid UTF-8 bytes become \udcXX. */
static void json_string(buf_t * b, const char * s, size_t n) {
    const unsigned char * u = (const unsigned char *) s;
    char tmp[16];
    buf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char) c);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            buf_push(b, tmp, 6);
            i++;
        } else if (c < 0x80) {
            buf_putc(b, (char) c);
            i++;
        } else {
            size_t len = utf8_valid_len(u + i, n - i);
            if (len == 0) {
                snprintf(tmp, sizeof tmp, "\\udc%02x", c);
                buf_push(b, tmp, 6);
                i++;
            } else {
                buf_push(b, s + i, len);
                i += len;
            }
        }
    }
    buf_putc(b, '"');
}

static void json_cstr(buf_t * b, const char * s) { json_string(b, s, strlen(s)); }

static const char * skip_ws(const char * p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

static int hex4(const char * p, uint32_t * out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t) (c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t) (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t) (c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

/* Parses one JSON string literal at p into out (raw bytes); returns the position after it, or NULL. */
static const char * parse_json_string(const char * p, buf_t * out) {
    out->len = 0;
    buf_push(out, "", 0);
    if (*p != '"') return NULL;
    p++;
    for (;;) {
        unsigned char c = (unsigned char) *p;
        if (c == 0) return NULL;
        if (c == '"') return p + 1;
        if (c != '\\') {
            buf_putc(out, (char) c);
            p++;
            continue;
        }
        p++;
        switch (*p) {
        case '"': buf_putc(out, '"'); break;
        case '\\': buf_putc(out, '\\'); break;
        case '/': buf_putc(out, '/'); break;
        case 'b': buf_putc(out, '\b'); break;
        case 'f': buf_putc(out, '\f'); break;
        case 'n': buf_putc(out, '\n'); break;
        case 'r': buf_putc(out, '\r'); break;
        case 't': buf_putc(out, '\t'); break;
        case 'u': {
            uint32_t cp, lo;
            if (!hex4(p + 1, &cp)) return NULL;
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && p[1] == '\\' && p[2] == 'u' && hex4(p + 3, &lo) && lo >= 0xDC00 &&
                lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
                buf_utf8(out, cp);
            } else if (cp >= 0xDC80 && cp <= 0xDCFF) {
                buf_putc(out, (char) (cp - 0xDC00)); /* surrogateescape: one raw byte */
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                return NULL; /* other lone surrogates have no byte meaning */
            } else {
                buf_utf8(out, cp);
            }
            break;
        }
        default: return NULL;
        }
        p++;
    }
}

/* Reads one line of stdin (without its newline) into line; returns 0 at end of input. */
static int read_line(buf_t * line) {
    line->len = 0;
    buf_push(line, "", 0);
    int c, any = 0;
    while ((c = getchar()) != EOF) {
        any = 1;
        if (c == '\n') return 1;
        buf_putc(line, (char) c);
    }
    return any;
}

static int is_blank(const char * s) { return *skip_ws(s) == 0; }

/* ---------- argument helpers ---------- */

static long parse_long(const char * s, const char * what) {
    char * end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) die("%s: not an integer: '%s'", what, s);
    return v;
}

static int parse_int_in(const char * s, const char * what, long low, long high) {
    long v = parse_long(s, what);
    if (v < low || v > high) die("%s must be between %ld and %ld, found %ld", what, low, high, v);
    return (int) v;
}

static llama_token * parse_tokens(const char * s, int * n_out) {
    int cap = 16, n = 0;
    llama_token * toks = xmalloc(sizeof(llama_token) * (size_t) cap);
    const char * p = s;
    while (*p) {
        char * end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || v < 0 || v > INT32_MAX) die("--tokens: bad id list '%s'", s);
        if (n == cap) toks = xrealloc(toks, sizeof(llama_token) * (size_t) (cap *= 2));
        toks[n++] = (llama_token) v;
        p = end;
        if (*p == ',') p++;
        else if (*p) die("--tokens: bad id list '%s'", s);
    }
    if (n == 0) die("--tokens: no ids");
    *n_out = n;
    return toks;
}

typedef struct {
    const char * gguf;
    const char * tokens;
    const char * out;
    int threads, ctx, n_predict;
    int n_prompt, reps;       /* bench: -p, -r (-1: not given) */
    const char * flash_attn;  /* bench: --fa off|on|auto */
    int add_special, parse_special, ignore_eos, vocab_only, llama_defaults;
    int remove_special, unparse_special;
} opts_t;

static void need(int i, int argc, const char * flag) {
    if (i + 1 >= argc) die("%s needs a value", flag);
}

static opts_t parse_opts(const char * cmd, int argc, char ** argv) {
    opts_t o = {0};
    o.threads = 2;
    o.n_predict = -1;
    o.n_prompt = -1;
    o.reps = -1;
    o.add_special = 1;
    o.remove_special = 0;
    o.unparse_special = 1;
    for (int i = 0; i < argc; i++) {
        const char * a = argv[i];
        if (!strcmp(a, "--tokens")) { need(i, argc, a); o.tokens = argv[++i]; }
        else if (!strcmp(a, "--out")) { need(i, argc, a); o.out = argv[++i]; }
        else if (!strcmp(a, "--threads")) { need(i, argc, a); o.threads = (int) parse_long(argv[++i], a); }
        else if (!strcmp(a, "--ctx")) { need(i, argc, a); o.ctx = (int) parse_long(argv[++i], a); }
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) { need(i, argc, a); o.n_predict = (int) parse_long(argv[++i], a); }
        else if (!strcmp(a, "-p")) { need(i, argc, a); o.n_prompt = parse_int_in(argv[++i], a, 0, 1 << 20); }
        else if (!strcmp(a, "-r")) { need(i, argc, a); o.reps = parse_int_in(argv[++i], a, 1, 10000); }
        else if (!strcmp(a, "--fa")) { need(i, argc, a); o.flash_attn = argv[++i]; }
        else if (!strcmp(a, "--no-special")) o.add_special = 0;
        else if (!strcmp(a, "--parse-special")) o.parse_special = 1;
        else if (!strcmp(a, "--ignore-eos")) o.ignore_eos = 1;
        else if (!strcmp(a, "--vocab-only")) o.vocab_only = 1;
        else if (!strcmp(a, "--llama-defaults")) o.llama_defaults = 1;
        else if (!strcmp(a, "--remove-special")) o.remove_special = 1;
        else if (!strcmp(a, "--no-unparse-special")) o.unparse_special = 0;
        else if (a[0] == '-' && a[1]) die("%s: unknown option %s", cmd, a);
        else if (!o.gguf) o.gguf = a;
        else die("%s: unexpected argument '%s'", cmd, a);
    }
    if (!o.gguf) die("%s: the GGUF file is required", cmd);
    if (o.threads < 1) die("--threads must be at least 1");
    if (o.ctx < 0) die("--ctx must not be negative");
    return o;
}

/* ---------- model and context ---------- */

static struct llama_model * load_model(const char * path, int vocab_only) {
    FILE * f = fopen(path, "rb");
    if (!f) die("%s: cannot open: %s", path, strerror(errno));
    fclose(f);
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = vocab_only ? true : false;
    /* v0.5.0 has no use_mmap: a load_mode enum replaces it (AUTO by default, NONE in llama_model_default_params). */
    mp.load_mode = g_no_mmap ? LLAMA_LOAD_MODE_NONE : LLAMA_LOAD_MODE_MMAP;
    mp.n_gpu_layers = 0;
    struct llama_model * model = llama_model_load_from_file(path, mp);
    if (!model) die("%s: llama.cpp could not load it (see its log above)", path);
    return model;
}

/* A context for exact logits: flash attention off, F32 K and V caches, one ubatch for the whole prompt. */
static struct llama_context * make_context(struct llama_model * model, const opts_t * o, int n_needed, int n_batch) {
    struct llama_context_params cp = llama_context_default_params();
    int n_ctx = o->ctx ? o->ctx : n_needed;
    if (n_ctx < n_needed) die("--ctx %d is smaller than the %d positions needed", n_ctx, n_needed);
    cp.n_ctx = (uint32_t) n_ctx;
    cp.n_batch = (uint32_t) n_batch;
    cp.n_ubatch = (uint32_t) n_batch;
    cp.n_seq_max = 1;
    cp.n_threads = o->threads;
    cp.n_threads_batch = o->threads;
    if (!o->llama_defaults) { /* --llama-defaults keeps llama.cpp's own: flash attention auto, F16 K/V cache */
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
        cp.type_k = GGML_TYPE_F32;
        cp.type_v = GGML_TYPE_F32;
    }
    cp.embeddings = false;
    cp.no_perf = true;
    struct llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) die("llama_init_from_model failed (see its log above)");
    return ctx;
}

static void check_ids(const struct llama_vocab * vocab, const llama_token * toks, int n) {
    int n_vocab = llama_vocab_n_tokens(vocab);
    for (int i = 0; i < n; i++)
        if (toks[i] < 0 || toks[i] >= n_vocab) die("token id %d is outside the vocabulary (n_vocab %d)", toks[i], n_vocab);
}

/* Decodes toks at positions pos0.. in one batch; want_all asks for logits at every position, else only the last. */
static void decode(struct llama_context * ctx, const llama_token * toks, int n, int pos0, int want_all) {
    struct llama_batch batch = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        batch.token[i] = toks[i];
        batch.pos[i] = pos0 + i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = (int8_t) (want_all || i == n - 1);
    }
    batch.n_tokens = n;
    int32_t rc = llama_decode(ctx, batch);
    llama_batch_free(batch);
    if (rc != 0) die("llama_decode returned %d", rc);
}

static const float * logits_at(struct llama_context * ctx, int i) {
    const float * l = llama_get_logits_ith(ctx, i);
    if (!l) die("llama_get_logits_ith(%d) returned no logits", i);
    return l;
}

static int argmax(const float * v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* ---------- subcommands ---------- */

static int cmd_tokenize(int argc, char ** argv) {
    opts_t o = parse_opts("tokenize", argc, argv);
    struct llama_model * model = load_model(o.gguf, 1);
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    buf_t line = {0}, text = {0}, out = {0};
    int cap = 256;
    llama_token * toks = xmalloc(sizeof(llama_token) * (size_t) cap);
    long lineno = 0;
    while (read_line(&line)) {
        lineno++;
        if (is_blank(line.data)) continue;
        const char * end = parse_json_string(skip_ws(line.data), &text);
        if (!end || !is_blank(end)) die("stdin line %ld: not one JSON string", lineno);
        if (text.len > INT32_MAX) die("stdin line %ld: text too long", lineno);
        int32_t n = llama_tokenize(vocab, text.data, (int32_t) text.len, toks, cap, o.add_special, o.parse_special);
        if (n == INT32_MIN) die("stdin line %ld: token count overflows int32", lineno);
        if (n < 0) {
            cap = -n;
            toks = xrealloc(toks, sizeof(llama_token) * (size_t) cap);
            n = llama_tokenize(vocab, text.data, (int32_t) text.len, toks, cap, o.add_special, o.parse_special);
            if (n < 0) die("stdin line %ld: llama_tokenize failed twice (%d)", lineno, n);
        }
        out.len = 0;
        buf_putc(&out, '[');
        for (int i = 0; i < n; i++) {
            char num[16];
            int k = snprintf(num, sizeof num, i ? ",%d" : "%d", toks[i]);
            buf_push(&out, num, (size_t) k);
        }
        buf_push(&out, "]\n", 2);
        fwrite(out.data, 1, out.len, stdout);
        fflush(stdout);
    }
    llama_model_free(model);
    return 0;
}

/* Parses a JSON array of integers. */
static llama_token * parse_id_array(const char * p, int * n_out, long lineno) {
    int cap = 16, n = 0;
    llama_token * toks = xmalloc(sizeof(llama_token) * (size_t) cap);
    p = skip_ws(p);
    if (*p != '[') die("stdin line %ld: not a JSON array of ids", lineno);
    p = skip_ws(p + 1);
    if (*p == ']') p++;
    else
        for (;;) {
            char * end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (errno || end == p || v < INT32_MIN || v > INT32_MAX) die("stdin line %ld: bad id", lineno);
            if (n == cap) toks = xrealloc(toks, sizeof(llama_token) * (size_t) (cap *= 2));
            toks[n++] = (llama_token) v;
            p = skip_ws(end);
            if (*p == ',') { p = skip_ws(p + 1); continue; }
            if (*p == ']') { p++; break; }
            die("stdin line %ld: not a JSON array of ids", lineno);
        }
    if (!is_blank(p)) die("stdin line %ld: trailing text after the array", lineno);
    *n_out = n;
    return toks;
}

static int cmd_detokenize(int argc, char ** argv) {
    opts_t o = parse_opts("detokenize", argc, argv);
    struct llama_model * model = load_model(o.gguf, 1);
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    buf_t line = {0}, out = {0};
    int cap = 1024;
    char * text = xmalloc((size_t) cap);
    long lineno = 0;
    while (read_line(&line)) {
        lineno++;
        if (is_blank(line.data)) continue;
        int n;
        llama_token * toks = parse_id_array(line.data, &n, lineno);
        check_ids(vocab, toks, n);
        int32_t len = llama_detokenize(vocab, toks, n, text, cap, o.remove_special, o.unparse_special);
        if (len < 0) {
            cap = -len + 1;
            text = xrealloc(text, (size_t) cap);
            len = llama_detokenize(vocab, toks, n, text, cap, o.remove_special, o.unparse_special);
            if (len < 0) die("stdin line %ld: llama_detokenize failed twice (%d)", lineno, len);
        }
        out.len = 0;
        json_string(&out, text, (size_t) len);
        buf_putc(&out, '\n');
        fwrite(out.data, 1, out.len, stdout);
        fflush(stdout);
        free(toks);
    }
    free(text);
    llama_model_free(model);
    return 0;
}

static void write_logits(const char * path, const float * data, int rows, int cols) {
    FILE * f = fopen(path, "wb");
    if (!f) die("%s: cannot write: %s", path, strerror(errno));
    size_t plen = strlen(path);
    if (plen >= 4 && !strcmp(path + plen - 4, ".npy")) {
        char header[128];
        int hl = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows,
                          cols);
        int total = 10 + hl + 1;
        int pad = (64 - total % 64) % 64;
        unsigned short hlen = (unsigned short) (hl + pad + 1);
        unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char) (hlen & 0xFF),
                                   (unsigned char) (hlen >> 8)};
        fwrite(magic, 1, 10, f);
        fwrite(header, 1, (size_t) hl, f);
        for (int i = 0; i < pad; i++) fputc(' ', f);
        fputc('\n', f);
    }
    /* x86-64 is little-endian: the floats go out as they are. */
    size_t count = (size_t) rows * (size_t) cols;
    if (fwrite(data, sizeof(float), count, f) != count || fclose(f) != 0) die("%s: write failed", path);
}

static int cmd_logits(int argc, char ** argv) {
    opts_t o = parse_opts("logits", argc, argv);
    if (!o.tokens) die("logits: --tokens is required");
    if (!o.out) die("logits: --out is required");
    int n;
    llama_token * toks = parse_tokens(o.tokens, &n);
    struct llama_model * model = load_model(o.gguf, 0);
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    check_ids(vocab, toks, n);
    int n_vocab = llama_vocab_n_tokens(vocab);
    struct llama_context * ctx = make_context(model, &o, n, n);
    decode(ctx, toks, n, 0, 1);
    float * all = xmalloc(sizeof(float) * (size_t) n * (size_t) n_vocab);
    for (int i = 0; i < n; i++) memcpy(all + (size_t) i * n_vocab, logits_at(ctx, i), sizeof(float) * (size_t) n_vocab);
    write_logits(o.out, all, n, n_vocab);
    buf_t js = {0};
    char num[160];
    snprintf(num, sizeof num, "{\"n_vocab\":%d,\"n_tokens\":%d,\"n_ctx\":%u,\"threads\":%d,\"exact\":%s,\"out\":", n_vocab,
             n, llama_n_ctx(ctx), o.threads, o.llama_defaults ? "false" : "true");
    buf_push(&js, num, strlen(num));
    json_cstr(&js, o.out);
    buf_push(&js, "}\n", 2);
    fputs(js.data, stdout);
    free(all);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}

static int cmd_generate(int argc, char ** argv) {
    opts_t o = parse_opts("generate", argc, argv);
    if (!o.tokens) die("generate: --tokens is required");
    if (o.n_predict < 0) die("generate: -n N is required");
    int n;
    llama_token * toks = parse_tokens(o.tokens, &n);
    struct llama_model * model = load_model(o.gguf, 0);
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    check_ids(vocab, toks, n);
    int n_vocab = llama_vocab_n_tokens(vocab);
    struct llama_context * ctx = make_context(model, &o, n + o.n_predict, n);
    llama_token * gen = xmalloc(sizeof(llama_token) * (size_t) (o.n_predict + 1));
    int n_gen = 0, stopped_eog = 0;
    if (o.n_predict > 0) decode(ctx, toks, n, 0, 0);
    while (n_gen < o.n_predict) {
        llama_token next = (llama_token) argmax(logits_at(ctx, -1), n_vocab);
        gen[n_gen++] = next;
        if (!o.ignore_eos && llama_vocab_is_eog(vocab, next)) {
            stopped_eog = 1;
            break;
        }
        if (n_gen == o.n_predict) break;
        decode(ctx, &next, 1, n + n_gen - 1, 0);
    }
    printf("{\"tokens\":[");
    for (int i = 0; i < n_gen; i++) printf(i ? ",%d" : "%d", gen[i]);
    printf("],\"stopped_at_eog\":%s}\n", stopped_eog ? "true" : "false");
    free(gen);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}

static int cmd_info(int argc, char ** argv) {
    opts_t o = parse_opts("info", argc, argv);
    struct llama_model * model = load_model(o.gguf, o.vocab_only);
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    buf_t js = {0};
    char tmp[512];
    int k = snprintf(tmp, sizeof tmp,
                     "{\"n_vocab\":%d,\"n_ctx_train\":%d,\"n_embd\":%d,\"n_layer\":%d,\"vocab_type\":%d,\"bos\":%d,"
                     "\"eos\":%d,\"add_bos\":%s,\"add_eos\":%s,\"weights_loaded\":%s",
                     llama_vocab_n_tokens(vocab), llama_model_n_ctx_train(model), llama_model_n_embd(model),
                     llama_model_n_layer(model), (int) llama_vocab_type(vocab), llama_vocab_bos(vocab),
                     llama_vocab_eos(vocab), llama_vocab_get_add_bos(vocab) ? "true" : "false",
                     llama_vocab_get_add_eos(vocab) ? "true" : "false", o.vocab_only ? "false" : "true");
    buf_push(&js, tmp, (size_t) k);
    if (!o.vocab_only) {
        k = snprintf(tmp, sizeof tmp, ",\"n_params\":%llu,\"size_bytes\":%llu",
                     (unsigned long long) llama_model_n_params(model), (unsigned long long) llama_model_size(model));
        buf_push(&js, tmp, (size_t) k);
    }
    llama_model_desc(model, tmp, sizeof tmp);
    buf_push(&js, ",\"desc\":", 8);
    json_cstr(&js, tmp);
    /* The CPU backend variant ggml picked (e.g. "CPU" from libggml-cpu-zen4.so) and the registered devices. */
    buf_push(&js, ",\"devices\":[", 12);
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        if (i) buf_putc(&js, ',');
        json_cstr(&js, ggml_backend_dev_name(ggml_backend_dev_get(i)));
    }
    buf_push(&js, "],\"system_info\":", 16);
    json_cstr(&js, llama_print_system_info());
    buf_push(&js, ",\"meta\":{", 9);
    int count = llama_model_meta_count(model);
    int vcap = 1 << 16;
    char * val = xmalloc((size_t) vcap);
    for (int i = 0; i < count; i++) {
        llama_model_meta_key_by_index(model, i, tmp, sizeof tmp);
        int32_t vl = llama_model_meta_val_str_by_index(model, i, val, (size_t) vcap);
        if (vl >= vcap) {
            vcap = vl + 1;
            val = xrealloc(val, (size_t) vcap);
            vl = llama_model_meta_val_str_by_index(model, i, val, (size_t) vcap);
        }
        if (i) buf_putc(&js, ',');
        json_cstr(&js, tmp);
        buf_putc(&js, ':');
        if (vl < 0) buf_push(&js, "null", 4);
        else json_string(&js, val, strlen(val));
    }
    buf_push(&js, "}}\n", 3);
    fputs(js.data, stdout);
    free(val);
    llama_model_free(model);
    return 0;
}

/* llama-quantize's own path: llama_model_quantize with its defaults (no importance matrix) and one llama_ftype. */
static int cmd_quantize(int argc, char ** argv) {
    if (argc < 3) die("quantize: usage: quantize IN.gguf OUT.gguf FTYPE (a llama_ftype number) [--threads N]");
    struct llama_model_quantize_params params = llama_model_quantize_default_params();
    char * end = NULL;
    const long ftype = strtol(argv[2], &end, 10);
    if (!end || *end || ftype < 0) die("quantize: FTYPE '%s' is not a llama_ftype number", argv[2]);
    params.ftype = (enum llama_ftype) ftype;
    params.nthread = 2;
    if (argc >= 5 && !strcmp(argv[3], "--threads")) params.nthread = atoi(argv[4]);
    const uint32_t rc = llama_model_quantize(argv[0], argv[1], &params);
    if (rc != 0) die("quantize: llama_model_quantize failed (%u) for %s", rc, argv[0]);
    printf("{\"out\":\"%s\",\"ftype\":%ld}\n", argv[1], ftype);
    return 0;
}

/* ---------- bench: llama-bench's pp and tg tests ---------- */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* One test's samples as JSON: seconds per repetition, and llama-bench's avg_ts/stddev_ts (the mean and sample
 * standard deviation of tokens per second over the repetitions). */
static void bench_test_json(buf_t * js, const char * name, int n_prompt, int n_gen, const double * seconds, int reps) {
    char tmp[160];
    int tokens = n_prompt + n_gen;
    double mean = 0, squares = 0;
    for (int r = 0; r < reps; r++) mean += tokens / seconds[r] / reps;
    for (int r = 0; r < reps; r++) squares += (tokens / seconds[r] - mean) * (tokens / seconds[r] - mean);
    double sd = reps > 1 ? sqrt(squares / (reps - 1)) : 0.0;
    int k = snprintf(tmp, sizeof tmp, "{\"test\":\"%s\",\"n_prompt\":%d,\"n_gen\":%d,\"samples_s\":[", name, n_prompt,
                     n_gen);
    buf_push(js, tmp, (size_t) k);
    for (int r = 0; r < reps; r++) {
        k = snprintf(tmp, sizeof tmp, r ? ",%.9f" : "%.9f", seconds[r]);
        buf_push(js, tmp, (size_t) k);
    }
    k = snprintf(tmp, sizeof tmp, "],\"avg_ts\":%.6f,\"stddev_ts\":%.6f}", mean, sd);
    buf_push(js, tmp, (size_t) k);
}

/* ppP: P random tokens (seeded) in one llama_decode into a cleared cache; tgN: N single-token llama_decode calls from
 * a cleared cache, starting from BOS (token 0 without one) and feeding each step's argmax. Each test runs once to
 * warm up, then -r timed times; the cache is cleared before the clock starts, as llama-bench does. Flash attention
 * is off by default (llama-bench's long-standing default; --fa on|auto to change), the K/V cache F16 (llama.cpp's
 * default), n_batch = n_ubatch = P so that the prompt is one ubatch. */
static int cmd_bench(int argc, char ** argv) {
    opts_t o = parse_opts("bench", argc, argv);
    int n_prompt = o.n_prompt < 0 ? 512 : o.n_prompt;
    int n_gen = o.n_predict < 0 ? 128 : o.n_predict;
    int reps = o.reps < 0 ? 5 : o.reps;
    if (o.n_predict < -1 || n_gen > (1 << 20)) die("-n must be between 0 and %d, found %d", 1 << 20, o.n_predict);
    if (n_prompt == 0 && n_gen == 0) die("bench: nothing to run: -p and -n are both 0");
    const char * fa = o.flash_attn ? o.flash_attn : "off";
    enum llama_flash_attn_type fa_type;
    if (!strcmp(fa, "off")) fa_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    else if (!strcmp(fa, "on")) fa_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
    else if (!strcmp(fa, "auto")) fa_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
    else die("--fa must be off, on or auto, found '%s'", fa);

    double start = now_seconds();
    struct llama_model * model = load_model(o.gguf, 0);
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    int n_vocab = llama_vocab_n_tokens(vocab);
    struct llama_context_params cp = llama_context_default_params();
    int n_ctx = n_prompt > n_gen ? n_prompt : n_gen;
    cp.n_ctx = (uint32_t) n_ctx;
    cp.n_batch = cp.n_ubatch = (uint32_t) (n_prompt > 0 ? n_prompt : 1);
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = o.threads;
    cp.flash_attn_type = fa_type;
    cp.no_perf = true;
    struct llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) die("llama_init_from_model failed (see its log above)");
    double load_s = now_seconds() - start;
    llama_memory_t mem = llama_get_memory(ctx);

    llama_token * prompt = xmalloc(sizeof(llama_token) * (size_t) (n_prompt > 0 ? n_prompt : 1));
    uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t) n_prompt;
    for (int i = 0; i < n_prompt; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull; /* a 64-bit LCG, high bits used */
        prompt[i] = (llama_token) ((state >> 33) % (uint64_t) n_vocab);
    }
    llama_token first = llama_vocab_bos(vocab) >= 0 ? llama_vocab_bos(vocab) : 0;
    double * seconds = xmalloc(sizeof(double) * (size_t) reps);

    buf_t js = {0};
    char tmp[512];
    const char * slash = strrchr(o.gguf, '/');
    buf_push(&js, "{\"engine\":\"llama.cpp\",\"model\":", 30);
    json_cstr(&js, slash ? slash + 1 : o.gguf);
    llama_model_desc(model, tmp, sizeof tmp);
    buf_push(&js, ",\"desc\":", 8);
    json_cstr(&js, tmp);
    int k = snprintf(tmp, sizeof tmp,
                     ",\"size\":%llu,\"params\":%llu,\"threads\":%d,\"flash_attn\":\"%s\",\"type_k\":\"%s\","
                     "\"type_v\":\"%s\",\"n_ctx\":%u,\"n_batch\":%u,\"n_ubatch\":%u,\"mmap\":%s,\"load_s\":%.6f,"
                     "\"tests\":[",
                     (unsigned long long) llama_model_size(model), (unsigned long long) llama_model_n_params(model),
                     o.threads, fa, ggml_type_name(cp.type_k), ggml_type_name(cp.type_v), llama_n_ctx(ctx),
                     llama_n_batch(ctx), llama_n_ubatch(ctx), g_no_mmap ? "false" : "true", load_s);
    buf_push(&js, tmp, (size_t) k);

    if (n_prompt > 0) {
        for (int r = -1; r < reps; r++) { /* r = -1: the warm-up */
            llama_memory_clear(mem, false);
            double t0 = now_seconds();
            if (llama_decode(ctx, llama_batch_get_one(prompt, n_prompt)) != 0) die("llama_decode of the prompt failed");
            llama_synchronize(ctx);
            if (r >= 0) seconds[r] = now_seconds() - t0;
        }
        snprintf(tmp, sizeof tmp, "pp%d", n_prompt);
        bench_test_json(&js, tmp, n_prompt, 0, seconds, reps);
    }
    if (n_gen > 0) {
        for (int r = -1; r < reps; r++) {
            llama_memory_clear(mem, false);
            double t0 = now_seconds();
            llama_token token = first;
            for (int i = 0; i < n_gen; i++) {
                if (llama_decode(ctx, llama_batch_get_one(&token, 1)) != 0) die("llama_decode of token %d failed", i);
                llama_synchronize(ctx);
                token = (llama_token) argmax(logits_at(ctx, -1), n_vocab);
            }
            if (r >= 0) seconds[r] = now_seconds() - t0;
        }
        snprintf(tmp, sizeof tmp, "tg%d", n_gen);
        if (n_prompt > 0) buf_putc(&js, ',');
        bench_test_json(&js, tmp, 0, n_gen, seconds, reps);
    }
    buf_push(&js, "]}\n", 3);
    fputs(js.data, stdout);
    free(seconds);
    free(prompt);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}

/* The folder of the loaded libllama, where the CPU backend variants lie. */
static const char * default_lib_dir(void) {
    static char dir[4096];
    Dl_info info;
    if (!dladdr((void *) &llama_backend_init, &info) || !info.dli_fname) die("cannot locate libllama (dladdr)");
    snprintf(dir, sizeof dir, "%s", info.dli_fname);
    char * slash = strrchr(dir, '/');
    if (!slash) die("libllama was loaded without a path; pass --lib-dir");
    *slash = 0;
    return dir;
}

static void usage(void) {
    fputs("usage: llama_driver [--lib-dir DIR] [--verbose] [--no-mmap] COMMAND GGUF [options]\n"
          "  tokenize GGUF [--no-special] [--parse-special]   stdin: JSON strings, stdout: JSON id arrays\n"
          "  detokenize GGUF [--remove-special] [--no-unparse-special]   stdin: JSON id arrays, stdout: JSON strings\n"
          "  logits GGUF --tokens 1,2,3 --out FILE[.npy] [--threads N] [--ctx N] [--llama-defaults]\n"
          "  generate GGUF --tokens 1,2,3 -n N [--threads N] [--ctx N] [--ignore-eos] [--llama-defaults]\n"
          "  info GGUF [--vocab-only]\n"
          "  quantize IN.gguf OUT.gguf FTYPE [--threads N]   llama_model_quantize, FTYPE a llama_ftype number\n"
          "  bench GGUF [--threads T] [-p P] [-n N] [-r R] [--fa off|on|auto]   llama-bench's ppP and tgN, JSON\n",
          stderr);
    exit(1);
}

int main(int argc, char ** argv) {
    const char * lib_dir = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--lib-dir") && i + 1 < argc) lib_dir = argv[++i];
        else if (!strcmp(argv[i], "--verbose")) g_verbose = 1;
        else if (!strcmp(argv[i], "--no-mmap")) g_no_mmap = 1;
        else usage();
    }
    if (i >= argc) usage();
    const char * cmd = argv[i++];
    llama_log_set(log_cb, NULL);
    ggml_log_set(log_cb, NULL);
    ggml_backend_load_all_from_path(lib_dir ? lib_dir : default_lib_dir());
    if (ggml_backend_dev_count() == 0) die("no ggml backend could be loaded from %s", lib_dir ? lib_dir : default_lib_dir());
    llama_backend_init();
    int rc;
    if (!strcmp(cmd, "tokenize")) rc = cmd_tokenize(argc - i, argv + i);
    else if (!strcmp(cmd, "detokenize")) rc = cmd_detokenize(argc - i, argv + i);
    else if (!strcmp(cmd, "logits")) rc = cmd_logits(argc - i, argv + i);
    else if (!strcmp(cmd, "generate")) rc = cmd_generate(argc - i, argv + i);
    else if (!strcmp(cmd, "info")) rc = cmd_info(argc - i, argv + i);
    else if (!strcmp(cmd, "quantize")) rc = cmd_quantize(argc - i, argv + i);
    else if (!strcmp(cmd, "bench")) rc = cmd_bench(argc - i, argv + i);
    else {
        fprintf(stderr, "llama_driver: unknown command '%s'\n", cmd);
        usage();
        rc = 1;
    }
    llama_backend_free();
    return rc;
}
