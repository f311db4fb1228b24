#include "harness/ctl.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace harness {

CtlResult run_ctl(const std::string& socket, const std::vector<std::string>& args, Deadline d) {
  TempDir dir;
  auto quote = [](const std::string& a) {
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  std::string cmd = quote(CTL_BIN) + " --socket " + quote(socket);
  for (auto& a : args) cmd += " " + quote(a);
  cmd += " >" + dir.path() + "/out 2>" + dir.path() + "/err; echo \"ctl-exit=$?\"";
  Process p({"/bin/sh", "-c", cmd}, Process::Options{.echo = false});
  CtlResult r;
  auto line = p.wait_line("ctl-exit=", d);
  if (!line) throw std::runtime_error("sctprelayctl did not finish: " + cmd);
  r.status = std::stoi(p.lines()[*line].substr(p.lines()[*line].find('=') + 1));
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(dir.path() + "/out");
  r.err = slurp(dir.path() + "/err");
  r.json = nlohmann::json::parse(r.out, nullptr, false);
  p.wait_exit(d);
  return r;
}

CtlResult Daemon::ctl(const std::vector<std::string>& args, Deadline d) { return run_ctl(control_, args, d); }

}  // namespace harness
