// SHA-256 digest of a message, as lowercase hex (what `sha256sum` prints), to compare payloads.
// Computed by OpenSSL's libcrypto (EVP).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sctprelay::client {

std::string sha256_hex(const uint8_t* data, std::size_t len);

}  // namespace sctprelay::client
