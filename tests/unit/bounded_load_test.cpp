// Loading within bounds: a file the parser cannot get through in time or memory is refused with a
// message naming the bound, an oversized file is refused before parsing, and every other file
// loads exactly as load_file() loads it. A reload's load (BackgroundLoad) never holds up the
// event loop, coalesces requests made while it runs, and leaves no child behind.
#include "config/background_load.h"
#include "config/bounded_load.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace sctprelay::config {
namespace {

using namespace std::chrono;

// A directory of its own for each test, removed with its files.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/bounded_load-XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~TempDir() {
    for (auto& f : files_) ::unlink(f.c_str());
    ::rmdir(path_.c_str());
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    files_.push_back(p);
    return p;
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

constexpr const char* kGood = R"(listeners:
  - {name: in, addresses: [127.0.0.1], port: 36412}
destinations:
  - {name: a, addresses: [127.0.0.1], port: 38412}
routes:
  - {from: in, to: a}
)";

// Just under 4 MiB: a list of two million zeros. yaml-cpp takes several hundred bytes per node and
// tens of seconds for them all, so any bound of a second or of 64 MiB stops it.
std::string too_much_for_the_parser() {
  std::string text = "zeros: [0";
  const std::size_t target = kMaxConfigBytes - 16;
  text.reserve(target + 4);
  while (text.size() < target) text += ",0";
  return text + "]\n";
}

std::vector<std::string> lines(const LoadResult& r) {
  std::vector<std::string> out;
  for (auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

// ---- synchronous ----------------------------------------------------------------------------

TEST(BoundedLoad, AGoodFileLoadsAsLoadFileLoadsIt) {
  TempDir dir;
  const std::string path = dir.write("good.yaml", kGood);
  BoundedLoadResult r = load_file_bounded(path);
  EXPECT_FALSE(r.refused);
  ASSERT_TRUE(r.load.ok()) << ::testing::PrintToString(lines(r.load));
  LoadResult plain = load_file(path);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(r.load.config->listeners.size(), plain.config->listeners.size());
  EXPECT_EQ(r.load.config->routes.size(), plain.config->routes.size());
  EXPECT_EQ(r.load.config->source_file, path);
}

TEST(BoundedLoad, AFileWithErrorsGivesTheSameDiagnosticsAsLoadFile) {
  const std::string path = std::string(TEST_DATA_DIR) + "/config_everything_wrong.yaml";
  BoundedLoadResult r = load_file_bounded(path);
  EXPECT_FALSE(r.refused);
  EXPECT_FALSE(r.load.ok());
  EXPECT_GT(r.load.errors.size(), 10u);
  EXPECT_EQ(lines(r.load), lines(load_file(path)));
}

TEST(BoundedLoad, ASyntaxErrorGivesTheSameDiagnosticAsLoadFile) {
  TempDir dir;
  const std::string path = dir.write("comma.yaml", ", 1m)\n");
  BoundedLoadResult r = load_file_bounded(path);
  EXPECT_FALSE(r.refused);
  ASSERT_EQ(r.load.errors.size(), 1u);
  EXPECT_EQ(lines(r.load), lines(load_file(path)));
}

TEST(BoundedLoad, AMissingFileGivesTheSameDiagnosticAsLoadFile) {
  const std::string path = "/nonexistent/sctprelayd.yaml";
  BoundedLoadResult r = load_file_bounded(path);
  EXPECT_FALSE(r.refused);
  EXPECT_EQ(lines(r.load), lines(load_file(path)));
  EXPECT_EQ(lines(r.load), std::vector<std::string>{path + ": cannot open: No such file or directory"});
}

TEST(BoundedLoad, AFileAboveTheSizeLimitIsRefusedUnread) {
  TempDir dir;
  LoadLimits limits;
  limits.max_bytes = 64 << 10;
  std::string text = kGood;
  const std::string at_limit = dir.write("at.yaml", text + std::string(limits.max_bytes - text.size(), '#'));
  EXPECT_FALSE(load_file_bounded(at_limit, limits).refused) << "a file of exactly the limit is allowed";
  const std::string above = dir.write("above.yaml", text + std::string(limits.max_bytes - text.size() + 1, '#'));
  BoundedLoadResult r = load_file_bounded(above, limits);
  EXPECT_TRUE(r.refused);
  EXPECT_EQ(lines(r.load), std::vector<std::string>{above + ": refused: the file is larger than 64KiB (65536 bytes), "
                                                             "the most a configuration may be"});
}

TEST(BoundedLoad, TheDefaultSizeLimitIsFourMiB) {
  TempDir dir;
  const std::string path = dir.write("big.yaml", std::string(kMaxConfigBytes + 1, '#'));
  BoundedLoadResult r = load_file_bounded(path);
  EXPECT_TRUE(r.refused);
  ASSERT_EQ(r.load.errors.size(), 1u);
  EXPECT_EQ(r.load.errors[0].to_string(),
            path + ": refused: the file is larger than 4 MiB (4194304 bytes), the most a configuration may be");
}

TEST(BoundedLoad, AFileTheParserCannotFinishInTimeIsRefused) {
  TempDir dir;
  const std::string path = dir.write("bomb.yaml", too_much_for_the_parser());
  LoadLimits limits;
  limits.max_time = seconds(1);
  limits.max_memory = 0;  // time alone
  const auto start = steady_clock::now();
  BoundedLoadResult r = load_file_bounded(path, limits);
  EXPECT_LT(steady_clock::now() - start, seconds(10));
  EXPECT_TRUE(r.refused);
  EXPECT_EQ(lines(r.load), std::vector<std::string>{path + ": refused: the YAML parser did not finish within 1 s"});
}

TEST(BoundedLoad, AFileTheParserCannotFinishInMemoryIsRefused) {
  if (!child_memory_limit_enforced()) GTEST_SKIP() << "no memory limit under AddressSanitizer";
  TempDir dir;
  const std::string path = dir.write("bomb.yaml", too_much_for_the_parser());
  LoadLimits limits;
  limits.max_time = seconds(300);
  limits.max_memory = 64ull << 20;
  BoundedLoadResult r = load_file_bounded(path, limits);
  EXPECT_TRUE(r.refused);
  EXPECT_EQ(lines(r.load), std::vector<std::string>{path + ": refused: the YAML parser used more than 64 MiB"});
}

// ---- from an event loop ---------------------------------------------------------------------

// Runs the loop until `done` has been called `calls` times (or 60 s have passed).
struct Loop {
  event::Dispatcher dispatcher;
  std::vector<BoundedLoadResult> results;
  std::vector<bool> busy_then;
  int ticks = 0;
  std::size_t want = 1;
  std::unique_ptr<event::Timer> ticker = dispatcher.timer([this] {
    ++ticks;
    ticker->arm(milliseconds(20));
  });
  std::unique_ptr<event::Timer> give_up = dispatcher.timer([this] { dispatcher.exit(); });

  void run(std::size_t calls) {
    want = calls;
    ticker->arm(milliseconds(20));
    give_up->arm(seconds(60));
    dispatcher.run();
  }
};

TEST(BackgroundLoad, AGoodFileIsLoadedFromTheLoop) {
  TempDir dir;
  const std::string path = dir.write("good.yaml", kGood);
  Loop loop;
  BackgroundLoad load(loop.dispatcher, path, [&](BoundedLoadResult r) {
    loop.results.push_back(std::move(r));
    loop.busy_then.push_back(false);
    loop.dispatcher.exit();
  });
  load.request();
  EXPECT_TRUE(load.busy());
  loop.run(1);
  ASSERT_EQ(loop.results.size(), 1u);
  EXPECT_TRUE(loop.results[0].load.ok());
  EXPECT_FALSE(load.busy());
}

TEST(BackgroundLoad, TheLoopRunsOnWhileAFileIsCheckedAndRefused) {
  TempDir dir;
  const std::string path = dir.write("bomb.yaml", too_much_for_the_parser());
  Loop loop;
  LoadLimits limits;
  limits.max_time = seconds(2);
  int ticks_at_end = 0;
  BackgroundLoad load(
      loop.dispatcher, path,
      [&](BoundedLoadResult r) {
        loop.results.push_back(std::move(r));
        ticks_at_end = loop.ticks;
        loop.dispatcher.exit();
      },
      limits);
  load.request();
  loop.run(1);
  ASSERT_EQ(loop.results.size(), 1u);
  EXPECT_TRUE(loop.results[0].refused);
  EXPECT_EQ(lines(loop.results[0].load),
            std::vector<std::string>{path + ": refused: the YAML parser did not finish within 2 s"});
  // A 20 ms timer over 2 s fires up to 100 times; a loop held by the check would have fired it
  // once at most. (A few are enough: a busy test machine delays timers.)
  EXPECT_GE(ticks_at_end, 4) << "the event loop was held up while the file was checked";
}

TEST(BackgroundLoad, RequestsWhileACheckRunsMakeOneMoreLoadOfTheNewestFile) {
  TempDir dir;
  const std::string path = dir.write("sctprelayd.yaml", too_much_for_the_parser());
  Loop loop;
  LoadLimits limits;
  limits.max_time = seconds(2);
  std::unique_ptr<BackgroundLoad> load;
  load = std::make_unique<BackgroundLoad>(
      loop.dispatcher, path,
      [&](BoundedLoadResult r) {
        loop.results.push_back(std::move(r));
        loop.busy_then.push_back(load->busy());
        if (loop.results.size() == 2) loop.dispatcher.exit();
      },
      limits);
  load->request();
  // While the first check runs: the file is fixed, and three more requests arrive.
  auto during = loop.dispatcher.timer([&] {
    dir.write("sctprelayd.yaml", kGood);
    load->request();
    load->request();
    load->request();
  });
  during->arm(milliseconds(200));
  loop.run(2);
  ASSERT_EQ(loop.results.size(), 2u);
  EXPECT_TRUE(loop.results[0].refused);
  EXPECT_TRUE(loop.busy_then[0]) << "busy() must say that another load follows";
  EXPECT_TRUE(loop.results[1].load.ok()) << ::testing::PrintToString(lines(loop.results[1].load));
  EXPECT_FALSE(loop.busy_then[1]);
  // And no third load: the four requests made two.
  auto after = loop.dispatcher.timer([&] { loop.dispatcher.exit(); });
  after->arm(milliseconds(300));
  loop.dispatcher.run();
  EXPECT_EQ(loop.results.size(), 2u);
}

TEST(BackgroundLoad, CancelOrDestructionKillsTheRunningCheck) {
  TempDir dir;
  const std::string path = dir.write("bomb.yaml", too_much_for_the_parser());
  Loop loop;
  int calls = 0;
  {
    BackgroundLoad load(loop.dispatcher, path, [&](BoundedLoadResult) { ++calls; });
    load.request();
    auto stop = loop.dispatcher.timer([&] { loop.dispatcher.exit(); });
    stop->arm(milliseconds(300));
    loop.dispatcher.run();
    EXPECT_TRUE(load.busy());
  }
  EXPECT_EQ(calls, 0);
  // No child of this process is left, running or unreaped.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace sctprelay::config
