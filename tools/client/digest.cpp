// SHA-256 through OpenSSL's EVP one-shot digest.
#include "digest.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace sctprelay::client {

std::string sha256_hex(const uint8_t* data, std::size_t len) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // An empty message may come as a null pointer: with a length of 0 nothing is read from it.
  if (EVP_Digest(data, len, digest, &size, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 digest failed (OpenSSL EVP_Digest)");
  static const char* digits = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

}  // namespace sctprelay::client
