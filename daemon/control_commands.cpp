// The control socket's commands (docs/control.md): each request is answered from the relay's
// status, or changes something and says what it did.
#include <unistd.h>

#include <algorithm>

#include "control/status_json.h"
#include "daemon/service.h"
#include "util/log.h"
#include "util/unix_time.h"

namespace sctprelay::daemon {
namespace {

using nlohmann::json;

json refusal(const std::string& why) { return control::error_answer(why); }

// A string field of the request, or empty.
std::string text(const json& req, const char* key) {
  auto it = req.find(key);
  return it != req.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

control::DaemonInfo Service::daemon_info() const {
  control::DaemonInfo d;
  d.version = SCTPRELAYD_VERSION;
  d.pid = static_cast<int64_t>(::getpid());
  d.config_file = options_.config_path;
  d.generation = generation_;
  d.loaded_at = unix_seconds(loaded_at_);
  d.started_at = unix_seconds(started_at_);
  d.uptime_s = static_cast<uint64_t>(std::max<int64_t>(0, unix_seconds(std::chrono::system_clock::now()) - d.started_at));
  d.stopping = stopping_;
  d.workers = workers_.count();
  return d;
}

void Service::handle(const json& req, Reply reply) {
  const std::string command = text(req, "command");
  if (command == "status") return reply(control::status_answer(workers_.status({}), daemon_info()));
  if (command == "routes") return reply(control::routes_answer(workers_.status({})));
  if (command == "destinations") return reply(control::destinations_answer(workers_.status({})));
  if (command == "assocs") {
    relay::Relay::StatusQuery q;
    q.associations = true;
    q.listener = text(req, "listener");
    q.destination = text(req, "destination");
    if (!q.listener.empty() && !cfg_.find_listener(q.listener)) return reply(refusal("no listener named '" + q.listener + "'"));
    if (!q.destination.empty() && !cfg_.find_destination(q.destination))
      return reply(refusal("no destination named '" + q.destination + "'"));
    return reply(control::assocs_answer(workers_.status(q)));
  }
  if (command == "reload") return reload_command(std::move(reply));
  if (command == "drain" || command == "undrain") {
    const std::string name = text(req, "destination");
    std::string error;
    if (name.empty()) return reply(refusal(command + " needs a destination"));
    if (stopping_) return reply(refusal("the daemon is stopping"));
    if (!workers_.set_drained(name, command == "drain", error)) return reply(refusal(error));
    for (auto& d : workers_.status({}).destinations)
      if (d.name == name) return reply(control::destination_answer(d));
    return reply(refusal("no destination named '" + name + "'"));
  }
  if (command == "disconnect") {
    auto id = req.find("assoc");
    if (id == req.end() || !id->is_number_unsigned()) return reply(refusal("disconnect needs \"assoc\": a relay association id"));
    auto abort = req.find("abort");
    const bool hard = abort != req.end() && abort->is_boolean() && abort->get<bool>();
    std::string error, label;
    if (!workers_.disconnect(id->get<uint64_t>(), hard, error, &label)) return reply(refusal(error));
    json answer = control::disconnect_answer(id->get<uint64_t>(), label);
    answer["action"] = hard ? "abort" : "shutdown";
    return reply(answer);
  }
  reply(refusal("unknown command '" + command +
                "' (status, assocs, routes, destinations, reload, drain, undrain, disconnect)"));
}

// Answered once the file has been checked and, when good, applied: by a check that reads the file
// after this request came, never one that was already running.
void Service::reload_command(Reply reply) {
  if (stopping_) return reply(refusal("the daemon is stopping"));
  (reload_.checking() ? reload_waiting_next_ : reload_waiting_).push_back(std::move(reply));
  request_reload("sctprelayctl");
}

}  // namespace sctprelay::daemon
