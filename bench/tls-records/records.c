/*
 * bench/tls-records/records.c: the CPU cost of one small TLS 1.3 record in OpenSSL 3.0 and in GnuTLS, in
 * isolation (issue 27: "which part of the TLS gap is the library's").
 *
 * A client and a server of the same library do a TLS 1.3 handshake in this process over memory, with the
 * certificate and key of certs/generate.sh (ECDSA P-256). Then, timed with CLOCK_PROCESS_CPUTIME_ID:
 *   write: N server-side records, each one SSL_write / gnutls_record_send of one chat line (64 bytes of plaintext),
 *          the ciphertext taken out of the transport after each, as securechatd's handler takes it after each
 *          flush. Nothing reads it: the decryption is not part of the figure.
 *   read:  N records written by the client (untimed, in batches), then fed to the server one record at a time; the
 *          server reads until the library says it wants more (two calls per record: the second finds nothing),
 *          as the handler's read loop does for a network read that carries one record.
 * Prints one line: library, variant, operation, cipher suite, ns per record.
 *
 * Transports, for OpenSSL:
 *   sink  (default) a BIO of our own whose write callback appends to a buffer and whose read callback reads from
 *         one: what securechatd's ByteBufferBIO does, without the Swift around it. GnuTLS always uses the same
 *         buffers through its push and pull functions, so sink against GnuTLS is like for like.
 *   mem   BIO_s_mem for the server's input and output, the ciphertext taken with BIO_read (securechatd before
 *         ByteBufferBIO, and most OpenSSL users).
 * Settings of the OpenSSL server, -s:
 *   ours  (default) everything TLSContext+Configuration.swift sets on the server's SSL_CTX: protocol range,
 *         cipher lists, groups, NO_COMPRESSION | NO_RENEGOTIATION, client cipher preference, RELEASE_BUFFERS,
 *         the session cache without tickets, one TLS 1.3 ticket, the session ID context; and, as SSLConnection
 *         does, ERR_clear_error() before every SSL call and a message callback that counts KeyUpdates.
 *   keep  as ours, without SSL_MODE_RELEASE_BUFFERS.
 *   bare  OpenSSL's defaults (no options, no ERR_clear_error).
 * Cipher suite, -c: "default" lets each library's client and server choose as they do out of the box; a TLS 1.3
 * suite name (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256) makes both sides
 * offer only that one.
 *
 * Usage: records openssl|gnutls write|read [-n N] [-t sink|mem] [-s ours|keep|bare] [-c SUITE] [-e clear|peek|none]
 *                CERTDIR
 *        records negotiate CERTDIR   (which suite a GnuTLS server with ngIRCd's / InspIRCd's / NORMAL priority
 *                                     picks for an OpenSSL client offering securechat's list, and OpenSSL's own)
 * Build and run: bench/tls-records/run.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* ---- a byte pipe, one per direction ---- */

typedef struct {
    unsigned char *data;
    size_t len, cap, off;
    size_t limit; /* reads see data[off..<limit]; SIZE_MAX: everything */
} pipe_t;

static void pipe_init(pipe_t *p) {
    p->cap = 1 << 16;
    p->data = malloc(p->cap);
    p->len = p->off = 0;
    p->limit = SIZE_MAX;
}

static void pipe_append(pipe_t *p, const void *src, size_t n) {
    if (p->len + n > p->cap) {
        while (p->len + n > p->cap) p->cap *= 2;
        p->data = realloc(p->data, p->cap);
    }
    memcpy(p->data + p->len, src, n);
    p->len += n;
}

static size_t pipe_readable(const pipe_t *p) {
    size_t end = p->limit < p->len ? p->limit : p->len;
    return end > p->off ? end - p->off : 0;
}

static size_t pipe_take(pipe_t *p, void *dst, size_t n) {
    size_t avail = pipe_readable(p);
    if (n > avail) n = avail;
    memcpy(dst, p->data + p->off, n);
    p->off += n;
    if (p->off == p->len) p->off = p->len = 0;
    return n;
}

static void pipe_clear(pipe_t *p) { p->off = p->len = 0; }

static void die(const char *what) {
    fprintf(stderr, "records: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static double cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A chat line as the hub sends it: 64 bytes, newline included. */
static unsigned char line[64];

static void make_line(void) {
    const char *text = "<alice> hello everyone, this is a chat line of sixty-four bytes";
    memcpy(line, text, 63);
    line[63] = '\n';
}

static const char *transport = "sink";
static const char *settings = "ours";
static const char *suite = "default";
static long count = 2000000;
/* How the error queue is emptied before each SSL call, -e: "clear" ERR_clear_error() (SSLConnection's way),
 * "peek" ERR_clear_error() only when ERR_peek_error() finds an entry, "none". Default: clear for ours and keep. */
static const char *errors = NULL;
static int peek_only;

static void clear_errors(void) {
    if (!peek_only || ERR_peek_error() != 0) ERR_clear_error();
}

/* ============================== OpenSSL ============================== */

typedef struct {
    pipe_t *in, *out;
} sink_t;

static int sink_write(BIO *bio, const char *bytes, int n) {
    BIO_clear_retry_flags(bio);
    sink_t *s = BIO_get_data(bio);
    pipe_append(s->out, bytes, (size_t)n);
    return n;
}

static int sink_read(BIO *bio, char *bytes, int n) {
    BIO_clear_retry_flags(bio);
    sink_t *s = BIO_get_data(bio);
    size_t got = pipe_take(s->in, bytes, (size_t)n);
    if (got == 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    return (int)got;
}

static long sink_ctrl(BIO *bio, int cmd, long num, void *ptr) {
    (void)num;
    (void)ptr;
    sink_t *s = BIO_get_data(bio);
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return (long)pipe_readable(s->in);
    case BIO_CTRL_WPENDING: return (long)s->out->len;
    default: return 0;
    }
}

static BIO_METHOD *sink_method(void) {
    static BIO_METHOD *method;
    if (!method) {
        method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "records sink");
        BIO_meth_set_write(method, sink_write);
        BIO_meth_set_read(method, sink_read);
        BIO_meth_set_ctrl(method, sink_ctrl);
    }
    return method;
}

static BIO *sink_bio(pipe_t *in, pipe_t *out) {
    sink_t *s = malloc(sizeof *s);
    s->in = in;
    s->out = out;
    BIO *bio = BIO_new(sink_method());
    BIO_set_data(bio, s);
    BIO_set_init(bio, 1);
    return bio;
}

static int ours(void) { return strcmp(settings, "bare") != 0; }

/* Whether to empty the error queue before each SSL call (see -e). */
static int clears(void) {
    if (!errors) return ours();
    peek_only = strcmp(errors, "peek") == 0;
    return strcmp(errors, "none") != 0;
}

/* SSLConnection's message callback: counts received KeyUpdates and sent no_renegotiation alerts. OpenSSL calls it
 * for every record header it writes or reads (twice per TLS 1.3 record: header and inner content type). */
static long peer_requests;

static void message_callback(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                             void *arg) {
    (void)version;
    (void)ssl;
    (void)arg;
    const unsigned char *bytes = buf;
    if (!buf || len == 0) return;
    if (!write_p && content_type == SSL3_RT_HANDSHAKE && bytes[0] == SSL3_MT_KEY_UPDATE) peer_requests++;
    else if (write_p && content_type == SSL3_RT_ALERT && len >= 2 && bytes[1] == SSL_AD_NO_RENEGOTIATION)
        peer_requests++;
}

static SSL_CTX *openssl_server_ctx(const char *dir) {
    char cert[4096], key[4096];
    snprintf(cert, sizeof cert, "%s/server.crt", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) die("SSL_CTX_new");
    if (ours()) {
        /* As TLSContext+Configuration.swift: applyProtocolPolicy, enableServerSessionCache. */
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
        SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
        if (strcmp(suite, "default") == 0)
            SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
        SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
        SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
        if (strcmp(settings, "keep") != 0) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR);
        SSL_CTX_set_num_tickets(ctx, 1);
        SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"SecureChat", 10);
    }
    if (strcmp(suite, "default") != 0 && SSL_CTX_set_ciphersuites(ctx, suite) != 1) die("unknown suite");
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) die("server.crt");
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) die("server.key");
    return ctx;
}

/* The client offers what chatbench's TLSContext.client offers when asked for `ours`, else OpenSSL's defaults. */
static SSL_CTX *openssl_client_ctx(int securechat_list) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) die("SSL_CTX_new");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (securechat_list)
        SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    if (strcmp(suite, "default") != 0 && SSL_CTX_set_ciphersuites(ctx, suite) != 1) die("unknown suite");
    return ctx;
}

typedef struct {
    SSL *server, *client;
    BIO *server_rbio, *server_wbio; /* mem transport only */
    pipe_t c2s, s2c;
} openssl_pair_t;

/* Moves the server's output (mem transport) into s2c, so the client can read it. */
static void openssl_pump(openssl_pair_t *p) {
    if (strcmp(transport, "mem") != 0) return;
    char buf[16384];
    int n;
    while ((n = BIO_read(p->server_wbio, buf, sizeof buf)) > 0) pipe_append(&p->s2c, buf, (size_t)n);
    size_t avail;
    while ((avail = pipe_readable(&p->c2s)) > 0) {
        size_t got = pipe_take(&p->c2s, buf, avail < sizeof buf ? avail : sizeof buf);
        BIO_write(p->server_rbio, buf, (int)got);
    }
}

static void openssl_connect(openssl_pair_t *p, const char *dir, int securechat_client) {
    pipe_init(&p->c2s);
    pipe_init(&p->s2c);
    SSL_CTX *sctx = openssl_server_ctx(dir), *cctx = openssl_client_ctx(securechat_client);
    p->server = SSL_new(sctx);
    p->client = SSL_new(cctx);
    if (ours()) SSL_set_msg_callback(p->server, message_callback);
    if (strcmp(transport, "mem") == 0) {
        p->server_rbio = BIO_new(BIO_s_mem());
        p->server_wbio = BIO_new(BIO_s_mem());
        SSL_set_bio(p->server, p->server_rbio, p->server_wbio);
    } else {
        BIO *bio = sink_bio(&p->c2s, &p->s2c);
        SSL_set_bio(p->server, bio, bio);
    }
    BIO *cbio = sink_bio(&p->s2c, &p->c2s);
    SSL_set_bio(p->client, cbio, cbio);
    SSL_set_accept_state(p->server);
    SSL_set_connect_state(p->client);
    int server_done = 0, client_done = 0;
    for (int i = 0; i < 100 && !(server_done && client_done); i++) {
        if (!client_done) {
            int rc = SSL_do_handshake(p->client);
            if (rc == 1) client_done = 1;
            else if (SSL_get_error(p->client, rc) != SSL_ERROR_WANT_READ) die("client handshake");
        }
        openssl_pump(p);
        if (!server_done) {
            int rc = SSL_do_handshake(p->server);
            if (rc == 1) server_done = 1;
            else if (SSL_get_error(p->server, rc) != SSL_ERROR_WANT_READ) die("server handshake");
        }
        openssl_pump(p);
    }
    if (!(server_done && client_done)) die("handshake did not complete");
    /* The client reads the session ticket, so nothing is left over. */
    char buf[256];
    while (SSL_read(p->client, buf, sizeof buf) > 0) {}
    pipe_clear(&p->s2c);
    pipe_clear(&p->c2s);
    if (SSL_version(p->server) != TLS1_3_VERSION) die("not TLS 1.3");
}

static const char *openssl_suite(SSL *ssl) { return SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)); }

static double openssl_write(openssl_pair_t *p) {
    int clear = clears();
    int mem = strcmp(transport, "mem") == 0;
    char out[512];
    double start = cpu_ns();
    for (long i = 0; i < count; i++) {
        if (clear) clear_errors();
        if (SSL_write(p->server, line, sizeof line) != (int)sizeof line) die("SSL_write");
        /* Take the ciphertext, as the handler takes it for the network after each flush. */
        if (mem) {
            if (BIO_read(p->server_wbio, out, sizeof out) <= 0) die("BIO_read");
        } else {
            if (p->s2c.len == 0) die("no output");
            pipe_clear(&p->s2c);
        }
    }
    return (cpu_ns() - start) / (double)count;
}

enum { BATCH = 10000 };

static double openssl_read(openssl_pair_t *p) {
    int clear = clears();
    int mem = strcmp(transport, "mem") == 0;
    static size_t ends[BATCH];
    unsigned char plain[16384];
    double total = 0;
    for (long done = 0; done < count; done += BATCH) {
        pipe_clear(&p->c2s);
        for (int i = 0; i < BATCH; i++) {
            if (SSL_write(p->client, line, sizeof line) != (int)sizeof line) die("client SSL_write");
            ends[i] = p->c2s.len;
        }
        double start = cpu_ns();
        size_t from = 0;
        for (int i = 0; i < BATCH; i++) {
            /* One record arrives: as a network read handed to the BIO. */
            if (mem) {
                BIO_write(p->server_rbio, p->c2s.data + from, (int)(ends[i] - from));
            } else {
                p->c2s.limit = ends[i];
            }
            from = ends[i];
            int got = 0;
            for (;;) {
                if (clear) clear_errors();
                int rc = SSL_read(p->server, plain, sizeof plain);
                if (rc > 0) {
                    got += rc;
                    continue;
                }
                if (SSL_get_error(p->server, rc) != SSL_ERROR_WANT_READ) die("SSL_read");
                break;
            }
            if (got != (int)sizeof line) die("short read");
        }
        total += cpu_ns() - start;
        p->c2s.limit = SIZE_MAX;
    }
    return total / (double)count;
}

/* ============================== GnuTLS ============================== */

typedef struct {
    pipe_t *in, *out;
    gnutls_session_t session;
} gt_end_t;

static ssize_t gt_push(gnutls_transport_ptr_t ptr, const void *data, size_t n) {
    gt_end_t *e = ptr;
    pipe_append(e->out, data, n);
    return (ssize_t)n;
}

static ssize_t gt_pull(gnutls_transport_ptr_t ptr, void *data, size_t n) {
    gt_end_t *e = ptr;
    size_t got = pipe_take(e->in, data, n);
    if (got == 0) {
        gnutls_transport_set_errno(e->session, EAGAIN);
        return -1;
    }
    return (ssize_t)got;
}

static void gt_check(int rc, const char *what) {
    if (rc < 0) {
        fprintf(stderr, "records: %s: %s\n", what, gnutls_strerror(rc));
        exit(1);
    }
}

/* "NORMAL" unless one suite is asked for: a TLS 1.3 suite is its cipher and MAC in GnuTLS's terms. */
static const char *gt_priority(void) {
    static char buf[256];
    if (strcmp(suite, "default") == 0) return NULL; /* gnutls_set_default_priority */
    const char *cipher = strcmp(suite, "TLS_AES_128_GCM_SHA256") == 0   ? "AES-128-GCM"
                         : strcmp(suite, "TLS_AES_256_GCM_SHA384") == 0 ? "AES-256-GCM"
                         : strcmp(suite, "TLS_CHACHA20_POLY1305_SHA256") == 0 ? "CHACHA20-POLY1305"
                                                                               : NULL;
    if (!cipher) die("unknown suite");
    snprintf(buf, sizeof buf, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+%s", cipher);
    return buf;
}

static void gt_setup(gt_end_t *e, unsigned flags, pipe_t *in, pipe_t *out,
                         gnutls_certificate_credentials_t cred, const char *priority) {
    gt_check(gnutls_init(&e->session, flags | GNUTLS_NONBLOCK), "gnutls_init");
    if (priority) {
        gt_check(gnutls_priority_set_direct(e->session, priority, NULL), "priority");
    } else {
        gt_check(gnutls_set_default_priority(e->session), "default priority");
    }
    gt_check(gnutls_credentials_set(e->session, GNUTLS_CRD_CERTIFICATE, cred), "credentials");
    e->in = in;
    e->out = out;
    gnutls_transport_set_ptr(e->session, e);
    gnutls_transport_set_push_function(e->session, gt_push);
    gnutls_transport_set_pull_function(e->session, gt_pull);
}

typedef struct {
    gt_end_t server, client;
    pipe_t c2s, s2c;
} gt_pair_t;

static void gt_connect(gt_pair_t *p, const char *dir) {
    char cert[4096], key[4096];
    snprintf(cert, sizeof cert, "%s/server.crt", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    pipe_init(&p->c2s);
    pipe_init(&p->s2c);
    gnutls_certificate_credentials_t scred, ccred;
    gt_check(gnutls_certificate_allocate_credentials(&scred), "credentials");
    gt_check(gnutls_certificate_set_x509_key_file(scred, cert, key, GNUTLS_X509_FMT_PEM), "server.crt/key");
    gt_check(gnutls_certificate_allocate_credentials(&ccred), "credentials");
    const char *priority = gt_priority();
    gt_setup(&p->server, GNUTLS_SERVER, &p->c2s, &p->s2c, scred, priority);
    gt_setup(&p->client, GNUTLS_CLIENT, &p->s2c, &p->c2s, ccred, priority);
    int server_done = 0, client_done = 0;
    for (int i = 0; i < 100 && !(server_done && client_done); i++) {
        if (!client_done) {
            int rc = gnutls_handshake(p->client.session);
            if (rc == 0) client_done = 1;
            else if (rc != GNUTLS_E_AGAIN) gt_check(rc, "client handshake");
        }
        if (!server_done) {
            int rc = gnutls_handshake(p->server.session);
            if (rc == 0) server_done = 1;
            else if (rc != GNUTLS_E_AGAIN) gt_check(rc, "server handshake");
        }
    }
    if (!(server_done && client_done)) die("GnuTLS handshake did not complete");
    char buf[256];
    while (gnutls_record_recv(p->client.session, buf, sizeof buf) > 0) {}
    pipe_clear(&p->s2c);
    pipe_clear(&p->c2s);
    if (gnutls_protocol_get_version(p->server.session) != GNUTLS_TLS1_3) die("GnuTLS: not TLS 1.3");
}

/* GnuTLS's name for the suite, in the IANA form OpenSSL uses. */
static const char *gt_suite(gnutls_session_t s) {
    gnutls_cipher_algorithm_t c = gnutls_cipher_get(s);
    switch (c) {
    case GNUTLS_CIPHER_AES_128_GCM: return "TLS_AES_128_GCM_SHA256";
    case GNUTLS_CIPHER_AES_256_GCM: return "TLS_AES_256_GCM_SHA384";
    case GNUTLS_CIPHER_CHACHA20_POLY1305: return "TLS_CHACHA20_POLY1305_SHA256";
    default: return gnutls_cipher_get_name(c);
    }
}

static double gt_write(gt_pair_t *p) {
    double start = cpu_ns();
    for (long i = 0; i < count; i++) {
        if (gnutls_record_send(p->server.session, line, sizeof line) != (ssize_t)sizeof line) die("record_send");
        if (p->s2c.len == 0) die("no output");
        pipe_clear(&p->s2c);
    }
    return (cpu_ns() - start) / (double)count;
}

static double gt_read(gt_pair_t *p) {
    static size_t ends[BATCH];
    unsigned char plain[16384];
    double total = 0;
    for (long done = 0; done < count; done += BATCH) {
        pipe_clear(&p->c2s);
        for (int i = 0; i < BATCH; i++) {
            if (gnutls_record_send(p->client.session, line, sizeof line) != (ssize_t)sizeof line)
                die("client record_send");
            ends[i] = p->c2s.len;
        }
        double start = cpu_ns();
        for (int i = 0; i < BATCH; i++) {
            p->c2s.limit = ends[i];
            ssize_t got = 0;
            for (;;) {
                ssize_t rc = gnutls_record_recv(p->server.session, plain, sizeof plain);
                if (rc > 0) {
                    got += rc;
                    continue;
                }
                if (rc != GNUTLS_E_AGAIN) gt_check((int)rc, "record_recv");
                break;
            }
            if (got != (ssize_t)sizeof line) die("short read");
        }
        total += cpu_ns() - start;
        p->c2s.limit = SIZE_MAX;
    }
    return total / (double)count;
}

/* ============================== negotiate ============================== */

/* A GnuTLS server with `priority` against an OpenSSL client offering securechat's TLS 1.3 list. */
static const char *mixed_suite(const char *dir, const char *priority) {
    char cert[4096], key[4096];
    snprintf(cert, sizeof cert, "%s/server.crt", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    pipe_t c2s, s2c;
    pipe_init(&c2s);
    pipe_init(&s2c);
    gnutls_certificate_credentials_t scred;
    gt_check(gnutls_certificate_allocate_credentials(&scred), "credentials");
    gt_check(gnutls_certificate_set_x509_key_file(scred, cert, key, GNUTLS_X509_FMT_PEM), "server.crt/key");
    gt_end_t server;
    gt_setup(&server, GNUTLS_SERVER, &c2s, &s2c, scred, priority);
    SSL *client = SSL_new(openssl_client_ctx(1));
    BIO *cbio = sink_bio(&s2c, &c2s);
    SSL_set_bio(client, cbio, cbio);
    SSL_set_connect_state(client);
    int server_done = 0, client_done = 0;
    for (int i = 0; i < 100 && !(server_done && client_done); i++) {
        if (!client_done) {
            int rc = SSL_do_handshake(client);
            if (rc == 1) client_done = 1;
            else if (SSL_get_error(client, rc) != SSL_ERROR_WANT_READ) die("client handshake");
        }
        if (!server_done) {
            int rc = gnutls_handshake(server.session);
            if (rc == 0) server_done = 1;
            else if (rc != GNUTLS_E_AGAIN) gt_check(rc, "server handshake");
        }
    }
    if (!(server_done && client_done)) die("mixed handshake did not complete");
    return gt_suite(server.session);
}

static void negotiate(const char *dir) {
    openssl_pair_t o;
    openssl_connect(&o, dir, 0);
    printf("OpenSSL client (defaults)   -> OpenSSL server (securechatd's settings): %s\n", openssl_suite(o.server));
    openssl_pair_t s;
    openssl_connect(&s, dir, 1);
    printf("OpenSSL client (securechat) -> OpenSSL server (securechatd's settings): %s\n", openssl_suite(s.server));
    gt_pair_t g;
    gt_connect(&g, dir);
    printf("GnuTLS client (NORMAL)      -> GnuTLS server (NORMAL):                  %s\n",
           gt_suite(g.server.session));
    const char *priorities[][2] = {
        {"NORMAL", "GnuTLS's default"},
        {"SECURE128:-VERS-SSL3.0", "ngIRCd 26's default CipherList"},
        {"NORMAL:%SERVER_PRECEDENCE", "server precedence"},
    };
    for (size_t i = 0; i < sizeof priorities / sizeof priorities[0]; i++)
        printf("OpenSSL client (securechat) -> GnuTLS server (%s, %s): %s\n", priorities[i][0], priorities[i][1],
               mixed_suite(dir, priorities[i][0]));
}

/* ============================== main ============================== */

static void usage(void) {
    fprintf(stderr, "usage: records openssl|gnutls write|read [-n N] [-t sink|mem] [-s ours|keep|bare] "
                    "[-c SUITE] [-e clear|peek|none] CERTDIR\n       records negotiate CERTDIR\n");
    exit(2);
}

int main(int argc, char **argv) {
    make_line();
    if (argc == 3 && strcmp(argv[1], "negotiate") == 0) {
        negotiate(argv[2]);
        return 0;
    }
    if (argc < 4) usage();
    const char *lib = argv[1], *op = argv[2], *dir = NULL;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) count = atol(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) transport = argv[++i];
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) settings = argv[++i];
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) suite = argv[++i];
        else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) errors = argv[++i];
        else if (argv[i][0] != '-') dir = argv[i];
        else usage();
    }
    if (!dir || count <= 0 || count % BATCH != 0) usage();
    int write = strcmp(op, "write") == 0;
    if (!write && strcmp(op, "read") != 0) usage();
    double ns;
    const char *name;
    char variant[64];
    if (strcmp(lib, "openssl") == 0) {
        openssl_pair_t p;
        openssl_connect(&p, dir, 0);
        ns = write ? openssl_write(&p) : openssl_read(&p);
        name = openssl_suite(p.server);
        snprintf(variant, sizeof variant, "%s/%s%s%s", transport, settings, errors ? "/errors=" : "", errors ? errors : "");
        lib = OpenSSL_version(OPENSSL_VERSION);
    } else if (strcmp(lib, "gnutls") == 0) {
        gt_pair_t p;
        gt_connect(&p, dir);
        ns = write ? gt_write(&p) : gt_read(&p);
        name = gt_suite(p.server.session);
        snprintf(variant, sizeof variant, "push/pull");
        static char version[64];
        snprintf(version, sizeof version, "GnuTLS %s", gnutls_check_version(NULL));
        lib = version;
    } else {
        usage();
    }
    printf("%s\t%s\t%s\t%s\t%.1f\n", lib, variant, op, name, ns);
    return 0;
}
