#include "ctl/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <thread>

#include "ctl/exit_codes.h"
#include "ctl/format.h"
#include "ctl/render.h"

namespace sctprelay::ctl {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kDrainPoll{200};

const char* command_name(Command c) {
  switch (c) {
    case Command::Status: return "status";
    case Command::Assocs: return "assocs";
    case Command::Routes: return "routes";
    case Command::Destinations: return "destinations";
    case Command::Reload: return "reload";
    case Command::Drain: return "drain";
    case Command::Undrain: return "undrain";
    case Command::Disconnect: return "disconnect";
    case Command::Version: return "status";
  }
  return "status";
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000.0)));
}

void print_json(Env& env, const json& j) {
  env.out << j.dump(env.pretty_json ? 2 : -1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
}

// A call that did not get an answer: 3 (cannot reach), or 1 for an answer that is not JSON.
int call_failed(Env& env, const control::CallResult& r) {
  env.err << "sctprelayctl: " << r.error << '\n';
  return r.failure == control::CallResult::Failure::BadAnswer ? kExitNotOk : kExitUnreachable;
}

int unreadable(Env& env, const Options& o, const std::string& what) {
  env.err << "sctprelayctl: cannot read sctprelayd's answer to " << command_name(o.command) << ": " << what << " ("
          << ctl_version() << "; the daemon may be another version: --json shows its answer as it is)\n";
  return kExitNotOk;
}

// "ok": false: the daemon's reason.
int not_ok(Env& env, const json& answer) {
  auto error = get_string(answer, "error");
  env.err << "sctprelayctl: sctprelayd: " << (error ? *error : std::string("the request failed (no reason given)"))
          << '\n';
  return kExitNotOk;
}

const json* find_destination(const json& answer, const std::string& name) {
  for (const auto& d : require_list(answer, "destinations"))
    if (get_string(d, "name") == name) return &d;
  return nullptr;
}

// drain --wait: polls `destinations` until D's queue is empty or the wait times out.
int wait_for_empty_queue(const Options& o, Env& env, const json& drained) {
  const std::string& name = o.destination;
  auto queued = get_u64(member(drained, "destination"), "queued_messages");
  if (queued && *queued == 0) {
    if (!o.json) env.out << "destination " << name << ": queue empty\n" << std::flush;
    return kExitOk;
  }
  if (!o.json)
    env.out << "waiting up to " << seconds_text(o.wait_timeout_s) << " for its queue to empty\n" << std::flush;
  const auto deadline = env.now() + to_ms(o.wait_timeout_s);
  for (;;) {
    const auto now = env.now();
    if (now >= deadline) {
      env.err << "sctprelayctl: destination " << name << " still has "
              << (queued ? std::to_string(*queued) : std::string("some")) << " messages queued after "
              << seconds_text(o.wait_timeout_s) << " (it stays drained: undrain " << name << " to route to it again)\n";
      return kExitWaitTimeout;
    }
    env.sleep(std::min<std::chrono::milliseconds>(
        kDrainPoll,
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + std::chrono::milliseconds(1)));
    auto r = env.call(json{{"command", "destinations"}});
    if (!r.ok()) return call_failed(env, r);
    if (!get_bool(r.answer, "ok").value_or(false)) return not_ok(env, r.answer);
    const json* d = find_destination(r.answer, name);
    if (d == nullptr) {
      env.err << "sctprelayctl: destination " << name
              << " is no longer in sctprelayd's configuration (a reload removed it?)\n";
      return kExitNotOk;
    }
    queued = get_u64(*d, "queued_messages");
    if (!queued) throw AnswerError("destination " + name + " has no \"queued_messages\"");
    if (*queued == 0) {
      if (o.json)
        print_json(env, json{{"ok", true}, {"destination", *d}});
      else
        env.out << "destination " << name << ": queue empty\n" << std::flush;
      return kExitOk;
    }
  }
}

int run_version(const Options& o, Env& env) {
  if (!o.json) env.out << ctl_version() << '\n' << std::flush;
  auto r = env.call(make_request(o));
  if (!r.ok()) {
    if (o.json) print_json(env, json{{"ok", false}, {"sctprelayctl", SCTPRELAYD_VERSION}, {"daemon", nullptr}});
    return call_failed(env, r);
  }
  if (!get_bool(r.answer, "ok").value_or(false)) {
    if (o.json) print_json(env, json{{"ok", false}, {"sctprelayctl", SCTPRELAYD_VERSION}, {"daemon", nullptr}});
    return not_ok(env, r.answer);
  }
  if (o.json) {
    print_json(env, json{{"ok", true}, {"sctprelayctl", SCTPRELAYD_VERSION}, {"daemon", member(r.answer, "daemon")}});
    return kExitOk;
  }
  env.out << render_daemon_version(r.answer) << std::flush;
  return kExitOk;
}

int run_command(const Options& o, Env& env) {
  if (o.command == Command::Version) return run_version(o, env);

  auto r = env.call(make_request(o));
  if (!r.ok()) return call_failed(env, r);
  const json& answer = r.answer;
  auto ok = get_bool(answer, "ok");
  if (o.json) print_json(env, answer);
  if (!ok) return unreadable(env, o, "it has no \"ok\" field");
  if (!*ok) {
    if (o.json) return kExitNotOk;
    if (o.command == Command::Reload) {
      env.err << render_reload(answer) << std::flush;
      return kExitNotOk;
    }
    return not_ok(env, answer);
  }

  if (o.json) return o.command == Command::Drain && o.wait ? wait_for_empty_queue(o, env, answer) : kExitOk;

  // Each text is made whole before any of it is printed: an answer that cannot be read prints
  // nothing but the error.
  switch (o.command) {
    case Command::Status: env.out << render_status(answer); break;
    case Command::Assocs: env.out << render_assocs(answer); break;
    case Command::Routes: env.out << render_routes(answer); break;
    case Command::Destinations: env.out << render_destinations(answer); break;
    case Command::Reload: env.out << render_reload(answer); break;
    case Command::Drain:
      env.out << render_drain(answer, true) << std::flush;
      return o.wait ? wait_for_empty_queue(o, env, answer) : kExitOk;
    case Command::Undrain: env.out << render_drain(answer, false); break;
    case Command::Disconnect: env.out << render_disconnect(answer, o.abort); break;
    case Command::Version: break;
  }
  env.out << std::flush;
  return kExitOk;
}

}  // namespace

json make_request(const Options& o) {
  json req{{"command", command_name(o.command)}};
  switch (o.command) {
    case Command::Assocs:
      if (!o.listener.empty()) req["listener"] = o.listener;
      if (!o.destination.empty()) req["destination"] = o.destination;
      break;
    case Command::Drain:
    case Command::Undrain: req["destination"] = o.destination; break;
    case Command::Disconnect:
      req["assoc"] = o.assoc;
      req["abort"] = o.abort;
      break;
    default: break;
  }
  return req;
}

int run(const Options& o, Env& env) {
  try {
    return run_command(o, env);
  } catch (const AnswerError& e) {
    return unreadable(env, o, e.what());
  } catch (const std::exception& e) {
    return unreadable(env, o, e.what());
  }
}

Env real_env(const Options& o) {
  const auto timeout = to_ms(o.timeout_s);
  const std::string socket = o.socket;
  return Env{std::cout,
             std::cerr,
             [socket, timeout](const json& request) { return control::call(socket, request, timeout); },
             [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
             [] { return Clock::now(); },
             ::isatty(STDOUT_FILENO) == 1};
}

}  // namespace sctprelay::ctl
