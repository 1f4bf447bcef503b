// OpenSSL headers for Swift, plus static-inline wrappers for the macros Swift cannot import.
// Only Sources/SecureChat/TLS/ imports this module.
#ifndef SECURECHAT_COPENSSL_SHIM_H
#define SECURECHAT_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#endif
