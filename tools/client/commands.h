// The subcommands; each returns the process exit status (exit_codes.h).
#pragma once

#include "options.h"

namespace sctprelay::client {

int run_send(const SendOptions& options);
int run_listen(const ListenOptions& options);

}  // namespace sctprelay::client
