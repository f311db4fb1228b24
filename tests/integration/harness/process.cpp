#include "harness/process.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace harness {

namespace {

// What the sanitizers print first when they find something (with halt_on_error, the program then
// stops; LeakSanitizer reports at exit).
constexpr const char* kSanitizerMarks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"};

bool has_sanitizer_mark(const std::string& line) {
  for (const char* mark : kSanitizerMarks)
    if (line.find(mark) != std::string::npos) return true;
  return false;
}

}  // namespace

Process::Process(std::vector<std::string> argv, Options opts) : opts_(opts) {
  name_ = argv.at(0).substr(argv[0].rfind('/') + 1);
  ours_ = argv[0] == SCTPRELAYD_BIN || argv[0] == CLIENT_BIN;
  int out[2], in[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  if (opts.stdin_pipe && pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    dup2(out[1], 1);
    if (opts.merge_stderr) dup2(out[1], 2);
    if (opts.stdin_pipe) {
      dup2(in[0], 0);
    } else {
      int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s failed\n", args[0]);
    _exit(127);
  }
  close(out[1]);
  out_fd_ = out[0];
  fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  if (opts.stdin_pipe) {
    close(in[0]);
    in_fd_ = in[1];
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
  drain();
  if (ours_) expect_no_sanitizer_report();
  if (out_fd_ >= 0) close(out_fd_);
  if (in_fd_ >= 0) close(in_fd_);
}

std::string Process::sanitizer_report() const {
  std::size_t first = 0;
  while (first < lines_.size() && !has_sanitizer_mark(lines_[first])) ++first;
  std::string report;
  for (std::size_t i = first; i < lines_.size(); ++i) report += lines_[i] + "\n";
  if (first < lines_.size() && !partial_.empty()) report += partial_ + "\n";
  return report;
}

void Process::expect_no_sanitizer_report() {
  if (!partial_.empty() && has_sanitizer_mark(partial_)) {  // a last line without its newline
    lines_.push_back(partial_);
    partial_.clear();
  }
  for (std::size_t i = sanitizer_checked_; i < lines_.size(); ++i) {
    if (!has_sanitizer_mark(lines_[i])) continue;
    std::string report;
    for (std::size_t j = i; j < lines_.size(); ++j) report += lines_[j] + "\n";
    ADD_FAILURE() << name_ << " (pid " << pid_ << ") reported a sanitizer error:\n" << report;
    break;
  }
  sanitizer_checked_ = lines_.size();
}

bool Process::read_some(int timeout_ms) {
  pollfd pfd{out_fd_, POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms) <= 0) return false;
  char buf[65536];  // large: some tests print whole messages in hex
  ssize_t n = ::read(out_fd_, buf, sizeof buf);
  if (n <= 0) return false;
  partial_.append(buf, static_cast<std::size_t>(n));
  std::size_t pos;
  while ((pos = partial_.find('\n')) != std::string::npos) {
    lines_.push_back(partial_.substr(0, pos));
    if (opts_.echo) {
      const std::string& l = lines_.back();
      if (opts_.echo_limit && l.size() > opts_.echo_limit)
        std::fprintf(stderr, "[%s] %.*s... (%zu characters)\n", name_.c_str(), int(opts_.echo_limit), l.c_str(),
                     l.size());
      else
        std::fprintf(stderr, "[%s] %s\n", name_.c_str(), l.c_str());
    }
    partial_.erase(0, pos + 1);
  }
  return true;
}

void Process::drain() {
  while (out_fd_ >= 0 && read_some(0)) {
  }
}

std::optional<std::size_t> Process::wait_line(const std::string& needle, Deadline d, std::size_t from) {
  for (std::size_t i = from;;) {
    for (; i < lines_.size(); ++i)
      if (lines_[i].find(needle) != std::string::npos) return i;
    if (d.passed()) return std::nullopt;
    if (!read_some(std::min(d.poll_ms(), 200)) && status_) return std::nullopt;
    if (!status_) {
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        drain();
      }
    }
  }
}

bool Process::write_stdin(const std::string& s) {
  return in_fd_ >= 0 && ::write(in_fd_, s.data(), s.size()) == static_cast<ssize_t>(s.size());
}

void Process::close_stdin() {
  if (in_fd_ >= 0) close(in_fd_);
  in_fd_ = -1;
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> Process::wait_exit(Deadline d) {
  while (!status_) {
    int st;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (d.passed()) return std::nullopt;
    read_some(std::min(d.poll_ms(), 50));
  }
  drain();
  return status_;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/sctprelay-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p) << content;
  return p;
}

}  // namespace harness
