// The reference Argon2 library (Debian: libargon2-dev) for Swift. Only
// Sources/SecureChat/Accounts/Hashing/Argon2id.swift imports this module: it calls one function,
// argon2id_hash_raw, and everything else (salts, the PHC string, the comparison) is Swift.
#ifndef SECURECHAT_CARGON2_SHIM_H
#define SECURECHAT_CARGON2_SHIM_H

#include <argon2.h>

#endif
