// sctprelay-client end to end: a `listen` process and a `send` process talk over loopback SCTP
// and the test reads what they print (run inside the VM).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sctp/socket.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kWait = std::chrono::seconds(20);

int remaining_ms(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms <= 0 ? 0 : int(ms);
}

// A child process running the client, with its stdin and stdout as pipes (and its stderr too
// when asked for; else it shares the test's).
class Child {
 public:
  explicit Child(const std::vector<std::string>& args, bool capture_stderr = false) {
    ::signal(SIGPIPE, SIG_IGN);  // a child that exited early must not kill the test
    int in[2], out[2], err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    if (capture_stderr && pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      if (capture_stderr) dup2(err[1], 2);
      std::vector<char*> argv;
      std::string bin = CLIENT_BIN;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (capture_stderr) close(err[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_ = err[0];
    pidfd_ = int(syscall(SYS_pidfd_open, pid_, 0));
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && status_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {stdin_, stdout_, stderr_, pidfd_})
      if (fd >= 0) close(fd);
  }

  void write_stdin(const std::string& text) {
    ASSERT_EQ(write(stdin_, text.data(), text.size()), ssize_t(text.size()));
  }
  void close_stdin() {
    close(stdin_);
    stdin_ = -1;
  }
  void signal(int sig) { kill(pid_, sig); }

  // The next stdout line (without newline); false at EOF or timeout.
  bool read_line(std::string& line, Clock::time_point deadline) {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        output_ += line + "\n";
        return true;
      }
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
      char chunk[4096];
      ssize_t n = read(stdout_, chunk, sizeof chunk);
      if (n <= 0) return false;
      buffer_.append(chunk, n);
    }
  }

  // Every remaining stdout line until EOF.
  std::vector<std::string> rest(Clock::time_point deadline) {
    std::vector<std::string> lines;
    std::string line;
    while (read_line(line, deadline)) lines.push_back(line);
    return lines;
  }

  // Exit status, or -1 when the process did not end before the deadline.
  int wait(Clock::time_point deadline) {
    if (status_ >= 0) return status_;
    pollfd p{pidfd_, POLLIN, 0};
    if (poll(&p, 1, remaining_ms(deadline)) <= 0) return -1;
    int st = 0;
    if (waitpid(pid_, &st, 0) != pid_) return -1;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status_;
  }

  const std::string& output() const { return output_; }

  // Everything the child wrote to stderr (captured), read until it closes it.
  std::string stderr_text(Clock::time_point deadline) {
    std::string text;
    char chunk[4096];
    for (;;) {
      pollfd p{stderr_, POLLIN, 0};
      if (stderr_ < 0 || poll(&p, 1, remaining_ms(deadline)) <= 0) return text;
      ssize_t n = read(stderr_, chunk, sizeof chunk);
      if (n <= 0) return text;
      text.append(chunk, n);
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1, pidfd_ = -1;
  int status_ = -1;
  std::string buffer_, output_;
};

// The raw value of a scalar JSON field in a one-line object (strings without their quotes).
std::string field(const std::string& line, const std::string& key) {
  std::smatch m;
  std::regex re("\"" + key + "\":(\"((?:[^\"\\\\]|\\\\.)*)\"|[^,}]*)");
  if (!std::regex_search(line, m, re)) return "<missing>";
  return m[2].matched ? m[2].str() : m[1].str();
}

std::string event_of(const std::string& line) { return field(line, "event"); }

// Starts `listen --json` on 127.0.0.1 (plus extra args) and returns its port.
uint16_t start_listener(Child& listener) {
  std::string line;
  if (!listener.read_line(line, Clock::now() + kWait)) return 0;
  EXPECT_EQ(event_of(line), "listening") << line;
  return uint16_t(std::stoi(field(line, "port")));
}

// Reads listener lines until `count` message events (other events are kept too).
std::vector<std::string> read_messages(Child& listener, std::size_t count) {
  std::vector<std::string> messages;
  std::string line;
  auto deadline = Clock::now() + kWait;
  while (messages.size() < count && listener.read_line(line, deadline))
    if (event_of(line) == "message") messages.push_back(line);
  return messages;
}

constexpr const char* kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(ClientTool, GeneratedMessagesArriveVerifiedOnStreamRange) {
  Child listener({"listen", "0", "--bind", "127.0.0.1,127.0.0.2", "--json", "--count", "6", "--verify",
                  "--timeout", "20"});
  uint16_t port = start_listener(listener);
  ASSERT_NE(port, 0);
  std::string hosts = "127.0.0.1,127.0.0.2";
  Child sender({"send", hosts, std::to_string(port), "--count", "6", "--size", "1000", "--streams", "1-3",
                "--ppid", "46", "--json"});
  auto sent = sender.rest(Clock::now() + kWait);
  ASSERT_EQ(sender.wait(Clock::now() + kWait), 0) << sender.output();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(event_of(sent.front()), "up");
  // The sender sees the multi-homed listener under both addresses.
  for (const char* host : {"127.0.0.1", "127.0.0.2"})
    EXPECT_NE(sent.front().find("\"" + std::string(host) + ":" + std::to_string(port) + "\""), std::string::npos)
        << sent.front();
  EXPECT_EQ(event_of(sent.back()), "summary");
  EXPECT_EQ(field(sent.back(), "sent"), "6");
  EXPECT_EQ(field(sent.back(), "bytes"), "6000");

  auto messages = read_messages(listener, 6);
  ASSERT_EQ(messages.size(), 6u) << listener.output();
  std::map<std::string, int> per_stream;
  for (const auto& m : messages) {
    ++per_stream[field(m, "stream")];
    EXPECT_EQ(field(m, "ppid"), "46") << m;
    EXPECT_EQ(field(m, "size"), "1000") << m;
    EXPECT_EQ(field(m, "unordered"), "false") << m;
    EXPECT_EQ(field(m, "valid"), "true") << m;
    EXPECT_EQ(field(m, "sha256").size(), 64u) << m;
    EXPECT_EQ(field(m, "peer").rfind("127.0.0.1:", 0), 0u) << m;
  }
  EXPECT_EQ(per_stream, (std::map<std::string, int>{{"1", 2}, {"2", 2}, {"3", 2}}));
  auto tail = listener.rest(Clock::now() + kWait);
  ASSERT_EQ(listener.wait(Clock::now() + kWait), 0) << listener.output();
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(event_of(tail.back()), "summary");
  EXPECT_EQ(field(tail.back(), "invalid"), "0");
}

TEST(ClientTool, StdinLinesKeepStreamPpidAndUnordered) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--json", "--count", "2", "--timeout", "20"});
  uint16_t port = start_listener(listener);
  ASSERT_NE(port, 0);
  Child sender({"send", "127.0.0.1", std::to_string(port), "--stream", "2", "--ppid", "4294967295",
                "--unordered"});
  sender.write_stdin("hello world\n\nabc\n");  // the empty line is no message
  sender.close_stdin();
  sender.rest(Clock::now() + kWait);
  ASSERT_EQ(sender.wait(Clock::now() + kWait), 0) << sender.output();

  auto messages = read_messages(listener, 2);
  ASSERT_EQ(messages.size(), 2u) << listener.output();
  // Unordered messages may overtake each other: compare as a set.
  std::map<std::string, std::string> by_data;
  for (const auto& m : messages) {
    by_data[field(m, "data")] = m;
    EXPECT_EQ(field(m, "stream"), "2") << m;
    EXPECT_EQ(field(m, "ppid"), "4294967295") << m;
    EXPECT_EQ(field(m, "unordered"), "true") << m;
  }
  ASSERT_EQ(by_data.count("hello world"), 1u) << listener.output();
  ASSERT_EQ(by_data.count("abc"), 1u) << listener.output();
  EXPECT_EQ(field(by_data["abc"], "size"), "3");
  EXPECT_EQ(field(by_data["abc"], "sha256"), kAbcSha256);
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 0);
}

TEST(ClientTool, HumanOutputIsOneLinePerMessage) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--count", "1", "--timeout", "20"});
  std::string line;
  ASSERT_TRUE(listener.read_line(line, Clock::now() + kWait));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex("^listening port=([0-9]+) ")));
  std::string port = m[1];
  Child sender({"send", "127.0.0.1", port, "--ppid", "46", "--stream", "1"});
  sender.write_stdin("abc\n");
  sender.close_stdin();
  sender.rest(Clock::now() + kWait);
  ASSERT_EQ(sender.wait(Clock::now() + kWait), 0) << sender.output();
  auto deadline = Clock::now() + kWait;
  bool found = false;
  while (!found && listener.read_line(line, deadline))
    found = line.rfind("assoc=", 0) == 0;
  ASSERT_TRUE(found) << listener.output();
  EXPECT_TRUE(std::regex_match(
      line, std::regex("assoc=[0-9]+ peer=127\\.0\\.0\\.1:[0-9]+ stream=1 ppid=46 flags=ordered size=3 "
                       "sha256=" + std::string(kAbcSha256) + " data=abc")))
      << line;
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 0);
}

TEST(ClientTool, EchoedRepliesMatchWhatWasSent) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--json", "--echo"});
  uint16_t port = start_listener(listener);
  ASSERT_NE(port, 0);
  Child sender({"send", "127.0.0.1", std::to_string(port), "--count", "60", "--size", "3000", "--streams",
                "0-3", "--ppid", "7", "--wait-replies", "60", "--verify", "--json"});
  auto lines = sender.rest(Clock::now() + kWait);
  ASSERT_EQ(sender.wait(Clock::now() + kWait), 0) << sender.output();
  int replies = 0;
  for (const auto& l : lines) {
    if (event_of(l) != "reply") continue;
    ++replies;
    EXPECT_EQ(field(l, "valid"), "true") << l;
    EXPECT_EQ(field(l, "ppid"), "7") << l;  // echoed on the same ppid
    EXPECT_EQ(field(l, "size"), "3000") << l;
  }
  EXPECT_EQ(replies, 60);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(field(lines.back(), "replies"), "60") << lines.back();
  EXPECT_EQ(field(lines.back(), "mismatches"), "0") << lines.back();

  listener.signal(SIGTERM);
  auto tail = listener.rest(Clock::now() + kWait);
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 0);
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(field(tail.back(), "messages"), "60") << listener.output();
}

TEST(ClientTool, LargeMessagesEchoIntact) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--json", "--echo", "--count", "3", "--verify"});
  uint16_t port = start_listener(listener);
  ASSERT_NE(port, 0);
  Child sender({"send", "127.0.0.1", std::to_string(port), "--count", "3", "--size", "300000",
                "--wait-replies", "3", "--verify"});
  sender.rest(Clock::now() + kWait);
  EXPECT_EQ(sender.wait(Clock::now() + kWait), 0) << sender.output();
  listener.rest(Clock::now() + kWait);
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 0) << listener.output();
}

TEST(ClientTool, RefusedAssociationExits2) {
  // A port nobody listens on: the INIT is answered with an ABORT.
  std::error_code ec;
  auto probe = sctprelay::sctp::Socket::open(AF_INET, {}, ec);
  ASSERT_TRUE(probe) << ec.message();
  sctprelay::sctp::Address any;
  ASSERT_TRUE(sctprelay::sctp::Address::parse("127.0.0.1", 0, any));
  ASSERT_TRUE(probe.bind({any}, ec));
  uint16_t port = probe.local_addresses().at(0).port();
  probe.close();
  Child sender({"send", "127.0.0.1", std::to_string(port), "--timeout", "10"}, true);
  sender.close_stdin();  // no messages: the association attempt alone decides
  EXPECT_EQ(sender.wait(Clock::now() + kWait), 2);
  // The operator is told what it means.
  const std::string err = sender.stderr_text(Clock::now() + kWait);
  EXPECT_NE(err.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos) << err;
  EXPECT_NE(err.find("nothing accepts SCTP associations there"), std::string::npos) << err;
}

TEST(ClientTool, BindFailuresAreExplained) {
  // An address this host does not have (TEST-NET-1).
  Child stranger({"listen", "0", "--bind", "192.0.2.1"}, true);
  EXPECT_EQ(stranger.wait(Clock::now() + kWait), 2);
  std::string err = stranger.stderr_text(Clock::now() + kWait);
  EXPECT_NE(err.find("192.0.2.1 is not an address of this host"), std::string::npos) << err;
  EXPECT_NE(err.find("ip -brief address"), std::string::npos) << err;

  // A port another listener has.
  Child first({"listen", "0", "--bind", "127.0.0.1", "--json"});
  uint16_t port = start_listener(first);
  ASSERT_NE(port, 0);
  Child second({"listen", std::to_string(port), "--bind", "127.0.0.1"}, true);
  EXPECT_EQ(second.wait(Clock::now() + kWait), 2);
  err = second.stderr_text(Clock::now() + kWait);
  EXPECT_NE(err.find("SCTP port " + std::to_string(port)), std::string::npos) << err;
  EXPECT_NE(err.find("ss -Slnp"), std::string::npos) << err;
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(Clock::now() + kWait), 0);
}

// "[  1.0 s] sent 20 (20/s, 0.00 MB/s) replies 0"
const std::regex kSendProgress(R"(^\[ *[0-9]+\.[0-9] s\] sent [0-9]+ \([0-9.]+/s, [0-9.]+ MB/s\) replies [0-9]+$)");
const std::regex kListenProgress(R"(^\[ *[0-9]+\.[0-9] s\] received [0-9]+ \([0-9.]+/s, [0-9.]+ MB/s\)$)");

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (auto nl = text.find('\n'); nl != std::string::npos; start = nl + 1, nl = text.find('\n', start))
    lines.push_back(text.substr(start, nl - start));
  return lines;
}

std::size_t count_matching(const std::vector<std::string>& lines, const std::regex& re) {
  std::size_t n = 0;
  for (const auto& l : lines) n += std::regex_match(l, re) ? 1 : 0;
  return n;
}

TEST(ClientTool, RatePacesMessagesInOrderAndProgressGoesToStderr) {
  // 40 messages at 20/s with a burst of 5: the last one may not go before (40 - 5) / 20 = 1.75 s.
  constexpr int kCount = 40;
  const auto kAtLeast = std::chrono::milliseconds(1750);
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--json", "--count", std::to_string(kCount), "--timeout",
                  "60", "--progress"},
                 true);
  uint16_t port = start_listener(listener);
  ASSERT_NE(port, 0);
  const auto started = Clock::now();
  Child sender({"send", "127.0.0.1", std::to_string(port), "--count", std::to_string(kCount), "--rate", "20",
                "--burst", "5", "--json", "--progress"},
               true);
  auto out = sender.rest(Clock::now() + kWait);
  ASSERT_EQ(sender.wait(Clock::now() + kWait), 0) << sender.output();
  const auto took = Clock::now() - started;
  EXPECT_GE(took, kAtLeast);  // a lower bound only: emulation may make it take longer
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(field(out.back(), "sent"), std::to_string(kCount)) << out.back();
  EXPECT_GE(std::stoll(field(out.back(), "elapsed_ms")), kAtLeast.count()) << out.back();
  // stdout stays JSON: the progress lines go to stderr alone.
  for (const auto& line : out) EXPECT_EQ(line.rfind("{\"event\":", 0), 0u) << line;
  const std::string err = sender.stderr_text(Clock::now() + kWait);
  EXPECT_GE(count_matching(lines_of(err), kSendProgress), 1u) << err;

  // Every message arrived, in the order sent (one stream).
  auto messages = read_messages(listener, kCount);
  ASSERT_EQ(messages.size(), std::size_t(kCount)) << listener.output();
  for (int i = 0; i < kCount; ++i)
    EXPECT_EQ(field(messages[i], "data").rfind("seq=" + std::to_string(i) + " stream=0 ", 0), 0u) << messages[i];
  listener.rest(Clock::now() + kWait);
  ASSERT_EQ(listener.wait(Clock::now() + kWait), 0) << listener.output();
  for (const auto& line : lines_of(listener.output())) EXPECT_EQ(line.rfind("{\"event\":", 0), 0u) << line;
  const std::string listener_err = listener.stderr_text(Clock::now() + kWait);
  EXPECT_GE(count_matching(lines_of(listener_err), kListenProgress), 1u) << listener_err;
}

TEST(ClientTool, NoProgressUnlessAskedWhereStderrIsNoTerminal) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--json", "--count", "12", "--timeout", "60"}, true);
  uint16_t port = start_listener(listener);
  ASSERT_NE(port, 0);
  // 1.1 s of sending: long enough for a progress line, were there one.
  Child sender({"send", "127.0.0.1", std::to_string(port), "--count", "12", "--rate", "10", "--burst", "1"}, true);
  sender.rest(Clock::now() + kWait);
  ASSERT_EQ(sender.wait(Clock::now() + kWait), 0) << sender.output();
  const std::string err = sender.stderr_text(Clock::now() + kWait);
  EXPECT_EQ(count_matching(lines_of(err), kSendProgress), 0u) << err;
  EXPECT_EQ(read_messages(listener, 12).size(), 12u) << listener.output();
  listener.rest(Clock::now() + kWait);
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 0);
  const std::string listener_err = listener.stderr_text(Clock::now() + kWait);
  EXPECT_EQ(count_matching(lines_of(listener_err), kListenProgress), 0u) << listener_err;
}

TEST(ClientTool, ListenTimeoutExits3) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--count", "1", "--timeout", "0.3"});
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 3);
}

TEST(ClientTool, MissingRepliesExit3) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--json"});
  uint16_t port = start_listener(listener);
  ASSERT_NE(port, 0);
  Child sender({"send", "127.0.0.1", std::to_string(port), "--wait-replies", "1", "--timeout", "1", "--json"});
  sender.write_stdin("no echo for this\n");
  sender.close_stdin();
  auto lines = sender.rest(Clock::now() + kWait);
  EXPECT_EQ(sender.wait(Clock::now() + kWait), 3) << sender.output();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(field(lines.back(), "replies"), "0");
  listener.signal(SIGINT);
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 0);
}

TEST(ClientTool, UnexpectedPayloadFailsVerificationWithExit4) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--json", "--count", "2", "--verify"});
  uint16_t port = start_listener(listener);
  ASSERT_NE(port, 0);
  Child sender({"send", "127.0.0.1", std::to_string(port)});
  sender.write_stdin("seq=0 stream=0 pqrs\nseq=1 stream=0 zzzz\n");  // only the first is generated
  sender.close_stdin();
  EXPECT_EQ(sender.wait(Clock::now() + kWait), 0);
  auto messages = read_messages(listener, 2);
  ASSERT_EQ(messages.size(), 2u) << listener.output();
  EXPECT_EQ(field(messages[0], "valid"), "true") << messages[0];
  EXPECT_EQ(field(messages[1], "valid"), "false") << messages[1];
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 4);
}

TEST(ClientTool, UsageErrorsExit1) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"send", "127.0.0.1"},
           {"send", "127.0.0.1", "0"},
           {"send", "127.0.0.1", "5000", "--count", "1", "--file", "x"},
           {"send", "1.2.3", "5000", "--count", "1"},
           {"send", "127.0.0.1", "5000", "--streams", "3-1"},
           {"listen"},
           {"listen", "5000", "--bogus"},
           {"listen", "5000", "--count"},
           {"listen", "99999"},
           {"send", "127.0.0.1", "5000", "--rate", "0"},
           {"send", "127.0.0.1", "5000", "--burst", "3"},
           {"listen", "5000", "--progress=yes"},
       }) {
    Child c(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(c.wait(Clock::now() + kWait), 1) << joined;
  }
}

TEST(ClientTool, SigtermStopsListenerCleanly) {
  Child listener({"listen", "0", "--bind", "127.0.0.1", "--json"});
  ASSERT_NE(start_listener(listener), 0);
  listener.signal(SIGTERM);
  auto tail = listener.rest(Clock::now() + kWait);
  EXPECT_EQ(listener.wait(Clock::now() + kWait), 0);
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(event_of(tail.back()), "summary");
}

}  // namespace
