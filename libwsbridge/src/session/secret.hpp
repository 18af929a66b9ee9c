// Wiping a secret (the encryption key) from a string once it is no longer needed, in a way the
// compiler may not drop as a dead store (OPENSSL_cleanse).
#pragma once

#include <openssl/crypto.h>

#include <string>

namespace wsbridge::session {

inline void wipe(std::string& secret) {
    OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

}  // namespace wsbridge::session
