// sctprelayctl: the control socket's command-line client (docs/control.md, sctprelayctl(8)).
// Parses the command line, sends one request (or, for drain --wait, a few), prints the answer.
#include <exception>
#include <iostream>

#include "ctl/commands.h"
#include "ctl/exit_codes.h"
#include "ctl/options.h"

int main(int argc, char** argv) {
  using namespace sctprelay::ctl;
  try {
    auto parsed = parse_args(argc, argv);
    std::cout << parsed.out << std::flush;
    std::cerr << parsed.err << std::flush;
    if (!parsed.run) return parsed.exit_code;
    Env env = real_env(parsed.options);
    return run(parsed.options, env);
  } catch (const std::exception& e) {
    std::cerr << "sctprelayctl: " << e.what() << '\n';
    return kExitNotOk;
  }
}
