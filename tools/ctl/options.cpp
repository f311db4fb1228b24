#include "ctl/options.h"

#include <CLI/CLI.hpp>
#include <sstream>

#include "control/client.h"
#include "ctl/exit_codes.h"

namespace sctprelay::ctl {

std::string ctl_version() { return std::string("sctprelayctl ") + SCTPRELAYD_VERSION; }

ParseResult parse_args(int argc, const char* const* argv) {
  ParseResult result;
  Options& o = result.options;
  o.socket = control::default_socket_path();

  CLI::App app{
      "Asks sctprelayd about its associations, routes and destinations, and steers it, over its\n"
      "control socket.",
      "sctprelayctl"};
  // Global options may also come after the subcommand (sctprelayctl status --json).
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", ctl_version(), "print sctprelayctl's version and exit");
  app.add_option("--socket", o.socket,
                 "the control socket (default: $RUNTIME_DIRECTORY/control.sock when set, else " +
                     std::string(control::kDefaultSocketPath) + ")")
      ->type_name("PATH");
  app.add_flag("--json", o.json, "print the daemon's answer as JSON (indented on a terminal, one line otherwise)");
  app.add_option("--timeout", o.timeout_s, "seconds to wait for each answer (default 60)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.001, 86400.0));
  app.footer(
      "Exit status: 0 ok; 1 the daemon answered not ok (or an answer sctprelayctl cannot read);\n"
      "2 usage error; 3 the daemon cannot be reached (no socket, no permission, no answer in time);\n"
      "4 drain --wait timed out. See sctprelayctl(8).");

  auto* status = app.add_subcommand("status", "the daemon, its totals, listeners and destinations");
  auto* assocs = app.add_subcommand("assocs", "associations with their paths, and the recently closed ones");
  auto* listener = assocs->add_option("--listener", o.listener, "only those accepted on listener L")->type_name("L");
  auto* destination = assocs->add_option("--destination", o.destination, "only those to destination D")->type_name("D");
  listener->excludes(destination);
  auto* routes = app.add_subcommand("routes", "routes and what they matched, per target");
  auto* destinations = app.add_subcommand("destinations", "destinations: state, queue, connection attempts");
  auto* reload = app.add_subcommand("reload", "check the configuration file and apply it, or say why not");
  auto* drain = app.add_subcommand("drain", "take destination D out of the routes (its queue still drains)");
  drain->add_option("destination", o.destination, "the destination")->required()->type_name("D");
  drain->add_flag("--wait", o.wait, "then wait until its queue is empty");
  auto* wait_timeout =
      drain->add_option("--timeout", o.wait_timeout_s, "with --wait: give up after S seconds (default 300)")
          ->type_name("S")
          ->check(CLI::Range(0.001, 31536000.0));
  auto* undrain = app.add_subcommand("undrain", "put destination D back into the routes");
  undrain->add_option("destination", o.destination, "the destination")->required()->type_name("D");
  auto* disconnect = app.add_subcommand("disconnect", "end an association (SHUTDOWN, or ABORT with --abort)");
  disconnect->add_option("assoc", o.assoc, "the relay's id of the association (the ID column of assocs)")
      ->required()
      ->check(CLI::NonNegativeNumber)
      ->type_name("ASSOC_ID");
  disconnect->add_flag("--abort", o.abort, "ABORT at once instead of a graceful SHUTDOWN");
  auto* version = app.add_subcommand("version", "sctprelayctl's and the daemon's versions");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    const int code = app.exit(e, out, err);
    result.out = out.str();
    result.err = err.str();
    result.exit_code = code == 0 ? kExitOk : kExitUsage;
    return result;
  }

  const std::pair<const CLI::App*, Command> commands[] = {
      {status, Command::Status},   {assocs, Command::Assocs},
      {routes, Command::Routes},   {destinations, Command::Destinations},
      {reload, Command::Reload},   {drain, Command::Drain},
      {undrain, Command::Undrain}, {disconnect, Command::Disconnect},
      {version, Command::Version}};
  for (const auto& [sub, command] : commands)
    if (sub->parsed()) o.command = command;

  // `drain D --timeout S` without --wait: the only timeout there is, the answer's.
  if (o.command == Command::Drain && !o.wait && wait_timeout->count() > 0) o.timeout_s = o.wait_timeout_s;
  if (o.socket.empty()) {
    result.err = "sctprelayctl: --socket needs a path\n";
    result.exit_code = kExitUsage;
    return result;
  }
  result.run = true;
  return result;
}

}  // namespace sctprelay::ctl
