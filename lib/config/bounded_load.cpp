#include "config/bounded_load.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "config/scalars.h"

namespace sctprelay::config {
namespace {

// The child's exit statuses.
constexpr int kChildValid = 0;
constexpr int kChildInvalid = 1;

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

std::string mib_text(uint64_t bytes) {
  if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return scalars::format_size(static_cast<std::size_t>(bytes));
}

// Why a child that did not finish was stopped, for "refused: ...".
std::string stopped_because(const ChildEnd& end, const LoadLimits& limits) {
  switch (end.kind) {
    case ChildEnd::Kind::TimedOut:
      return "the YAML parser did not finish within " + seconds_text(limits.max_time);
    case ChildEnd::Kind::OutOfMemory:
      return "the YAML parser used more than " + mib_text(limits.max_memory);
    case ChildEnd::Kind::CpuLimit:
      return "the YAML parser used more than " + seconds_text(limits.max_time) + " of CPU time";
    case ChildEnd::Kind::Crashed:
      if (!end.report.empty()) return "the YAML parser failed: " + end.report;
      if (end.code > 0) return std::string("the YAML parser was killed by signal ") + std::to_string(end.code) +
                               " (" + ::strsignal(end.code) + ")";
      return "the YAML parser failed";
    case ChildEnd::Kind::Exited:
      break;
  }
  return "the check of the file ended with status " + std::to_string(end.code);
}

}  // namespace

BoundedLoadResult refusal(const std::string& name, const std::string& why) {
  BoundedLoadResult r;
  r.refused = true;
  r.load.errors.push_back(ConfigError{Position{name}, "", "refused: " + why});
  return r;
}

std::optional<std::string> read_config_file(const std::string& path, std::size_t max_bytes,
                                            BoundedLoadResult& failure) {
  // O_NONBLOCK: a FIFO without a writer reads as empty instead of holding the caller.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    const int err = errno;
    failure = BoundedLoadResult{};
    failure.load.errors.push_back(ConfigError{Position{path}, "", std::string("cannot open: ") + std::strerror(err)});
    return std::nullopt;
  }
  std::string text;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      failure = BoundedLoadResult{};
      failure.load.errors.push_back(
          ConfigError{Position{path}, "", std::string("cannot read the file: ") + std::strerror(err)});
      return std::nullopt;
    }
    if (text.size() + static_cast<std::size_t>(n) > max_bytes) {
      failure = refusal(path, "the file is larger than " + mib_text(max_bytes) + " (" + std::to_string(max_bytes) +
                                  " bytes), the most a configuration may be");
      return std::nullopt;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

std::unique_ptr<BoundedChild> start_bounded_check(const std::string& text, const std::string& name,
                                                  const LoadLimits& limits) {
  return std::make_unique<BoundedChild>(
      [&] { return load_string(text, name).ok() ? kChildValid : kChildInvalid; },
      ChildLimits{limits.max_time, limits.max_memory});
}

BoundedLoadResult conclude_bounded_check(const ChildEnd& end, const std::string& text, const std::string& name,
                                         const LoadLimits& limits) {
  if (end.kind == ChildEnd::Kind::Exited && (end.code == kChildValid || end.code == kChildInvalid)) {
    BoundedLoadResult r;
    r.load = load_string(text, name);
    return r;
  }
  return refusal(name, stopped_because(end, limits));
}

BoundedLoadResult load_file_bounded(const std::string& path, const LoadLimits& limits) {
  BoundedLoadResult result;
  auto text = read_config_file(path, limits.max_bytes, result);
  if (!text) return result;
  std::unique_ptr<BoundedChild> child;
  try {
    child = start_bounded_check(*text, path, limits);
  } catch (const std::system_error& e) {
    return refusal(path, std::string("cannot start the bounded check: ") + e.what());
  }
  const ChildEnd end = child->wait();
  return conclude_bounded_check(end, *text, path, limits);
}

}  // namespace sctprelay::config
