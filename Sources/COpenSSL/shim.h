// OpenSSL headers for Swift, plus static-inline wrappers for the macros Swift cannot import.
// Only Sources/SecureChat/TLS/ imports this module.
//
// The Swift compiler imports plain integer #defines, but not function-like macros nor constants built
// from them (SSL_OP_* are `SSL_OP_BIT(n)`, SSL_MODE_* are `0x...U` but are OR-ed through SSL_CTX_ctrl).
// Each wrapper below is the macro's expansion, typed, with an `sc_` prefix so it cannot collide with a
// real OpenSSL symbol if a later OpenSSL turns the macro into a function.
#ifndef SECURECHAT_COPENSSL_SHIM_H
#define SECURECHAT_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/buffer.h>
#include <openssl/ec.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

// MARK: SSL_CTX configuration

static inline int sc_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int sc_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long sc_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long sc_SSL_MODE_RELEASE_BUFFERS(void) { return SSL_MODE_RELEASE_BUFFERS; }

static inline uint64_t sc_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options) {
    return SSL_CTX_set_options(ctx, options);
}

static inline uint64_t sc_SSL_CTX_clear_options(SSL_CTX *ctx, uint64_t options) {
    return SSL_CTX_clear_options(ctx, options);
}

static inline uint64_t sc_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t sc_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t sc_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t sc_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }

static inline int sc_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

static inline long sc_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

static inline long sc_SSL_CTX_sess_set_cache_size(SSL_CTX *ctx, long size) {
    return SSL_CTX_sess_set_cache_size(ctx, size);
}

static inline long sc_SSL_CTX_sess_get_cache_size(SSL_CTX *ctx) {
    return SSL_CTX_sess_get_cache_size(ctx);
}

static inline long sc_SSL_CTX_sess_number(SSL_CTX *ctx) {
    return SSL_CTX_sess_number(ctx);
}

static inline long sc_SSL_CTX_set_max_cert_list(SSL_CTX *ctx, long bytes) {
    return SSL_CTX_set_max_cert_list(ctx, bytes);
}

static inline long sc_SSL_CTX_get_max_cert_list(SSL_CTX *ctx) {
    return SSL_CTX_get_max_cert_list(ctx);
}

static inline int sc_sk_X509_num(const STACK_OF(X509) *stack) {
    return sk_X509_num(stack);
}

// MARK: SSL (one connection)

static inline int sc_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// The pointer handed back to the callback set with SSL_set_msg_callback.
static inline void sc_SSL_set_msg_callback_arg(SSL *ssl, void *arg) {
    (void)SSL_set_msg_callback_arg(ssl, arg);
}

// MARK: BIO

static inline int sc_BIO_pending(BIO *bio) {
    return BIO_pending(bio);
}

/// For the ByteBuffer BIO's callbacks: "no bytes yet, try again" (an empty input is not the end of the stream:
/// the channel says when that comes), and clearing that flag before each call.
static inline void sc_BIO_set_retry_read(BIO *bio) {
    BIO_set_retry_read(bio);
}

static inline void sc_BIO_clear_retry_flags(BIO *bio) {
    BIO_clear_retry_flags(bio);
}

// MARK: Keys

static inline EVP_PKEY *sc_EVP_EC_gen_P256(void) {
    return EVP_EC_gen("P-256");
}

#endif
