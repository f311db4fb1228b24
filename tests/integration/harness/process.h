// A child process for tests (the daemon, the client tool, socat, python): its output read line by
// line with deadlines, its exit awaited with a deadline, killed if still running at the end.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "harness/deadline.h"

namespace harness {

class Process {
 public:
  struct Options {
    bool stdin_pipe = false;     // keep a pipe to the child's stdin (else /dev/null)
    bool merge_stderr = true;    // stderr joins stdout's lines
    bool echo = true;            // copy every line to the test's stderr, prefixed with the name
    std::size_t echo_limit = 0;  // echo at most this many characters of a line (0: all of it)
  };
  Process(std::vector<std::string> argv, Options opts);
  explicit Process(std::vector<std::string> argv) : Process(std::move(argv), Options{}) {}
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& lines() const { return lines_; }
  std::size_t mark() const { return lines_.size(); }

  // Waits for a line (from index `from` on) containing `needle`; returns its index.
  std::optional<std::size_t> wait_line(const std::string& needle, Deadline d = soon(), std::size_t from = 0);
  // Reads whatever output is available now, without waiting.
  void drain();

  bool write_stdin(const std::string& s);
  void close_stdin();
  void signal(int sig);
  // Waits for exit; returns the exit status (128+signal if killed) or nothing on timeout.
  std::optional<int> wait_exit(Deadline d = soon());
  bool running() const { return pid_ > 0 && !status_; }

  // A sanitizer report in the output read so far ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
  // "runtime error:"), from its first line on; empty when there is none.
  std::string sanitizer_report() const;
  // Fails the current test (ADD_FAILURE) with the report if the output read so far has a new one.
  // Done by the destructor too for the project's own programs (sctprelayd, sctprelay-client),
  // which tests/run.sh also builds with sanitizers: a report never passes silently.
  void expect_no_sanitizer_report();

 private:
  bool read_some(int timeout_ms);
  std::string name_;
  Options opts_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  std::string partial_;
  std::vector<std::string> lines_;
  std::optional<int> status_;
  bool ours_ = false;                    // sctprelayd or sctprelay-client
  std::size_t sanitizer_checked_ = 0;    // lines already checked by expect_no_sanitizer_report()
};

// A temporary directory removed with its files at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace harness
