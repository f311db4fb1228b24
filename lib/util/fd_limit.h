// Every association the relay carries has a socket of its own: the soft limit on open descriptors
// (1024 by default) would cap it at about a thousand. The hard limit is what the system allows.
#pragma once

#include <cstdint>

namespace sctprelay {

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force.
uint64_t raise_descriptor_limit();

}  // namespace sctprelay
