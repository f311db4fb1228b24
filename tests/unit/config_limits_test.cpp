// limits.max_message_size (with its upper bound), limits.max_reassembly_bytes and the check of
// max_message_size against the kernel's send buffer limit: values, golden errors, the warning.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "config/buffer_limits.h"
#include "config/loader.h"
#include "config_helpers.h"

namespace sctprelay::config {
namespace {

using test::Lines;
using test::load_ok;
using test::errors_of;
constexpr std::size_t kMiB = 1024u * 1024u;

// A file with one listener and `limits` as given (indented two spaces); limits start on line 3.
std::string with_limits(const std::string& limits) {
  return "listeners:\n  - {name: ran, address: 127.0.0.1, port: 36412}\nlimits:\n" + limits;
}

TEST(ConfigLimits, Defaults) {
  Config c = load_ok("listeners:\n  - {name: ran, address: 127.0.0.1, port: 36412}\n");
  EXPECT_EQ(c.limits.max_message_size, 1 * kMiB);
  EXPECT_EQ(c.limits.max_reassembly_bytes, 64 * kMiB);
  EXPECT_EQ(c.limits.max_message_size_where.line, 0);  // not given
}

TEST(ConfigLimits, ValuesParseAndThePositionOfMaxMessageSizeIsKept) {
  Config c = load_ok(with_limits("  max_message_size: 4MiB\n  max_reassembly_bytes: 16MiB\n"));
  EXPECT_EQ(c.limits.max_message_size, 4 * kMiB);
  EXPECT_EQ(c.limits.max_reassembly_bytes, 16 * kMiB);
  EXPECT_EQ(c.limits.max_message_size_where.file, "t.yaml");
  EXPECT_EQ(c.limits.max_message_size_where.line, 4);
  EXPECT_EQ(c.limits.max_message_size_where.column, 21);

  // The bounds themselves are fine: 256MiB messages, reassembly equal to the message size.
  c = load_ok(with_limits("  max_message_size: 256MiB\n  max_reassembly_bytes: 256MiB\n"));
  EXPECT_EQ(c.limits.max_message_size, 256 * kMiB);
  EXPECT_EQ(c.limits.max_reassembly_bytes, 256 * kMiB);
  c = load_ok(with_limits("  max_reassembly_bytes: 1048576\n"));  // = the default message size
  EXPECT_EQ(c.limits.max_reassembly_bytes, 1 * kMiB);
}

TEST(ConfigLimits, MaxMessageSizeAbove256MiBIsAnError) {
  EXPECT_EQ(errors_of(with_limits("  max_message_size: 257MiB\n  max_reassembly_bytes: 1GiB\n")),
            Lines({"t.yaml:4:21: limits.max_message_size: must be at most 256MiB, got 257MiB"}));
  EXPECT_EQ(errors_of(with_limits("  max_message_size: 268435457\n")),
            Lines({"t.yaml:4:21: limits.max_message_size: must be at most 256MiB, got 268435457 bytes"}));
}

TEST(ConfigLimits, ReassemblyBelowMessageSizePointsAtReassemblyWhenBothAreGiven) {
  EXPECT_EQ(errors_of(with_limits("  max_message_size: 8MiB\n  max_reassembly_bytes: 4MiB\n")),
            Lines({"t.yaml:5:25: limits.max_reassembly_bytes: 4MiB is below limits.max_message_size (8MiB): it must "
                   "hold at least one whole message being reassembled"}));
}

TEST(ConfigLimits, ReassemblyBelowTheDefaultMessageSize) {
  EXPECT_EQ(errors_of(with_limits("  max_reassembly_bytes: 512KiB\n")),
            Lines({"t.yaml:4:25: limits.max_reassembly_bytes: 512KiB is below limits.max_message_size (1MiB, the "
                   "default): it must hold at least one whole message being reassembled"}));
  EXPECT_EQ(errors_of(with_limits("  max_reassembly_bytes: 0\n")),
            Lines({"t.yaml:4:25: limits.max_reassembly_bytes: 0 bytes is below limits.max_message_size (1MiB, the "
                   "default): it must hold at least one whole message being reassembled"}));
}

TEST(ConfigLimits, MessageSizeAboveTheDefaultReassemblyPointsAtMessageSize) {
  EXPECT_EQ(errors_of(with_limits("  shutdown_drain: 1s\n  max_message_size: 128MiB\n")),
            Lines({"t.yaml:5:21: limits.max_message_size: 128MiB is above limits.max_reassembly_bytes (64MiB, the "
                   "default): raise max_reassembly_bytes to at least as much"}));
}

TEST(ConfigLimits, BadSizesAreReportedOnceWithoutCascading) {
  // An unreadable max_message_size is not compared with max_reassembly_bytes (and vice versa).
  EXPECT_EQ(errors_of(with_limits("  max_message_size: huge\n  max_reassembly_bytes: 1KiB\n")),
            Lines({"t.yaml:4:21: limits.max_message_size: \"huge\" is not a size (write bytes, or e.g. 64KiB, 1MiB, "
                   "1GiB)"}));
  EXPECT_EQ(errors_of(with_limits("  max_message_size: 300MiB\n  max_reassembly_bytes: 1KiB\n")),
            Lines({"t.yaml:4:21: limits.max_message_size: must be at most 256MiB, got 300MiB"}));
  EXPECT_EQ(errors_of(with_limits("  max_message_size: 128MiB\n  max_reassembly_bytes: -1\n")),
            Lines({"t.yaml:5:25: limits.max_reassembly_bytes: \"-1\" is negative"}));
}

TEST(ConfigLimits, UnknownLimitKeyListsTheNewKey) {
  EXPECT_EQ(errors_of(with_limits("  max_reassembly: 1MiB\n")),
            Lines({"t.yaml:4:3: limits.max_reassembly: unknown key \"max_reassembly\" (allowed: max_message_size, "
                   "max_reassembly_bytes, max_queued_bytes, shutdown_drain)"}));
}

// ---- max_message_size against net.core.wmem_max ----------------------------------------------

TEST(SendBufferWarning, NoneWhenTwiceWmemMaxHoldsTheLargestMessage) {
  Config c = load_ok(with_limits("  max_message_size: 64MiB\n"
                                 "  max_reassembly_bytes: 64MiB\n"));
  EXPECT_FALSE(send_buffer_warning(c, 32 * kMiB).has_value());  // 2 x 32MiB = 64MiB: exactly fits
  EXPECT_FALSE(send_buffer_warning(c, UINT64_MAX).has_value());
  EXPECT_TRUE(send_buffer_warning(c, 32 * kMiB - 1).has_value());
}

TEST(SendBufferWarning, NamesThePositionTheNumbersAndTheFix) {
  Config c = load_ok(with_limits("  max_message_size: 64MiB\n"));
  auto w = send_buffer_warning(c, 212992);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w, std::string("t.yaml:4:21: limits.max_message_size: warning: 64MiB (67108864 bytes) is more than a "
                            "send buffer can hold here: 2 x net.core.wmem_max = 425984 bytes (wmem_max 212992), so "
                            "messages above that cannot be sent; raise net.core.wmem_max to at least 33554432 (e.g. "
                            "with the installed ") +
                    sysctl_dropin_path() + ", then `sysctl --system`) or lower max_message_size");
}

TEST(SendBufferWarning, TheDefaultMessageSizeHasNoPosition) {
  Config c = load_ok("listeners:\n  - {name: ran, address: 127.0.0.1, port: 36412}\n");
  auto w = send_buffer_warning(c, 212992);  // the kernel's default: 2 x 208KiB < 1MiB
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->rfind("t.yaml: limits.max_message_size: warning: 1MiB (1048576 bytes, the default) is more than a "
                     "send buffer can hold here: 2 x net.core.wmem_max = 425984 bytes (wmem_max 212992), so messages "
                     "above that cannot be sent; raise net.core.wmem_max to at least 524288 (",
                     0),
            0u)
      << *w;
  EXPECT_FALSE(send_buffer_warning(c, 524288).has_value());
}

TEST(SendBufferWarning, OddSizesRoundTheAdviceUp) {
  Config c = load_ok(with_limits("  max_message_size: 1000001\n"));
  auto w = send_buffer_warning(c, 1000);
  ASSERT_TRUE(w.has_value());
  EXPECT_NE(w->find("warning: 1000001 bytes is more than"), std::string::npos) << *w;
  EXPECT_NE(w->find("at least 500001 ("), std::string::npos) << *w;
  EXPECT_FALSE(send_buffer_warning(c, 500001).has_value());
}

TEST(SendBufferWarning, ReadsTheSysctlFile) {
  char path[] = "/tmp/wmem_max-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "212992\n";
  EXPECT_EQ(read_sysctl_number(path), 212992u);
  std::ofstream(path) << "junk\n";
  EXPECT_FALSE(read_sysctl_number(path).has_value());
  std::ofstream(path) << "";
  EXPECT_FALSE(read_sysctl_number(path).has_value());
  unlink(path);
  EXPECT_FALSE(read_sysctl_number(path).has_value());
  if (access(kWmemMaxPath, R_OK) == 0) {
    EXPECT_TRUE(read_sysctl_number(kWmemMaxPath).has_value());
  }
}

}  // namespace
}  // namespace sctprelay::config
