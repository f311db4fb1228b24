// Text parsers behind the config: durations, sizes, numbers, addresses, prefixes, stream ranges.
#include "config/scalars.h"

#include <gtest/gtest.h>

namespace sctprelay::config::scalars {
namespace {

using std::chrono::milliseconds;

template <class T>
T must(const Parsed<T>& p) {
  EXPECT_TRUE(ok(p)) << (ok(p) ? "" : error(p));
  return ok(p) ? value(p) : T{};
}
template <class T>
std::string fails(const Parsed<T>& p) {
  EXPECT_FALSE(ok(p));
  return ok(p) ? "" : error(p);
}

TEST(ConfigScalars, DurationsWithUnits) {
  EXPECT_EQ(must(parse_duration("250ms")), milliseconds(250));
  EXPECT_EQ(must(parse_duration("5s")), milliseconds(5000));
  EXPECT_EQ(must(parse_duration("1.5s")), milliseconds(1500));
  EXPECT_EQ(must(parse_duration("1m")), milliseconds(60'000));
  EXPECT_EQ(must(parse_duration("2min")), milliseconds(120'000));
  EXPECT_EQ(must(parse_duration("1h")), milliseconds(3'600'000));
  EXPECT_EQ(must(parse_duration("0")), milliseconds(0));
  EXPECT_EQ(must(parse_duration(" 10 s ")), milliseconds(10'000));
}

TEST(ConfigScalars, DurationsRejected) {
  EXPECT_EQ(fails(parse_duration("5")), "\"5\" has no unit (write e.g. 5ms or 5s)");
  EXPECT_EQ(fails(parse_duration("5 sec")), "\"5 sec\" is not a duration (write e.g. 250ms, 5s, 1.5s, 1m, 1h)");
  EXPECT_EQ(fails(parse_duration("-1s")), "\"-1s\" is not a duration (write e.g. 250ms, 5s, 1.5s, 1m, 1h)");
  EXPECT_EQ(fails(parse_duration("0.5ms")), "\"0.5ms\" is finer than a millisecond");
  EXPECT_EQ(fails(parse_duration("9000h")), "\"9000h\" is too long (at most a year)");
  fails(parse_duration("s"));
  fails(parse_duration("1..5s"));
  fails(parse_duration(""));
}

TEST(ConfigScalars, Sizes) {
  EXPECT_EQ(must(parse_size("1048576")), 1048576u);
  EXPECT_EQ(must(parse_size("512B")), 512u);
  EXPECT_EQ(must(parse_size("64KiB")), 65536u);
  EXPECT_EQ(must(parse_size("1MiB")), 1048576u);
  EXPECT_EQ(must(parse_size("64MiB")), 64u * 1024 * 1024);
  EXPECT_EQ(must(parse_size("2GiB")), 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(must(parse_size("10kB")), 10000u);
  EXPECT_EQ(must(parse_size("3MB")), 3'000'000u);
  EXPECT_EQ(must(parse_size("64 KiB")), 65536u);
  EXPECT_EQ(fails(parse_size("64kib")), "\"64kib\" is not a size (write bytes, or e.g. 64KiB, 1MiB, 1GiB)");
  EXPECT_EQ(fails(parse_size("-5")), "\"-5\" is negative");
  EXPECT_EQ(fails(parse_size("99999999999999999GiB")), "\"99999999999999999GiB\" is too large");
  fails(parse_size("1.5MiB"));
}

TEST(ConfigScalars, SizesFormattedForMessages) {
  EXPECT_EQ(format_size(64u * 1024 * 1024), "64MiB");
  EXPECT_EQ(format_size(512u * 1024), "512KiB");
  EXPECT_EQ(format_size(1536u * 1024), "1536KiB");
  EXPECT_EQ(format_size(2ull * 1024 * 1024 * 1024), "2GiB");
  EXPECT_EQ(format_size(1000), "1000 bytes");
  EXPECT_EQ(format_size(1), "1 byte");
  EXPECT_EQ(format_size(0), "0 bytes");
  for (std::size_t n : {std::size_t{65536}, std::size_t{3} << 20, std::size_t{5} << 30})
    EXPECT_EQ(must(parse_size(format_size(n))), n);  // what a message says can be written in the file
}

TEST(ConfigScalars, Numbers) {
  EXPECT_EQ(must(parse_uint("18", 0, UINT32_MAX)), 18u);
  EXPECT_EQ(must(parse_uint("0x3c", 0, UINT32_MAX)), 60u);
  EXPECT_EQ(must(parse_uint("4294967295", 0, UINT32_MAX)), 4294967295u);
  EXPECT_EQ(fails(parse_uint("4294967296", 0, UINT32_MAX)), "4294967296 is out of range 0..4294967295");
  EXPECT_EQ(fails(parse_uint("0", 1, 65535)), "0 is out of range 1..65535");
  EXPECT_EQ(fails(parse_uint("-3", 1, 65535)), "\"-3\" is negative; allowed range is 1..65535");
  EXPECT_EQ(fails(parse_uint("12abc", 1, 65535)), "expected a whole number, got \"12abc\"");
  EXPECT_EQ(fails(parse_uint("99999999999999999999999", 1, 65535)),
            "\"99999999999999999999999\" is out of range 1..65535");
}

TEST(ConfigScalars, Addresses) {
  EXPECT_EQ(must(parse_address("127.0.0.1")), "127.0.0.1");
  EXPECT_EQ(must(parse_address("::1")), "::1");
  EXPECT_EQ(must(parse_address("0:0:0:0:0:0:0:1")), "::1");
  EXPECT_EQ(must(parse_address("[fd00::5]")), "fd00::5");
  EXPECT_EQ(fails(parse_address("localhost")), "\"localhost\" is not an IPv4 or IPv6 address (host names are not resolved)");
  EXPECT_EQ(fails(parse_address("127.0.0.256")), "\"127.0.0.256\" is not an IPv4 or IPv6 address (host names are not resolved)");
  EXPECT_EQ(fails(parse_address("fe80::1%eth0")), "\"fe80::1%eth0\" has a zone index; give a global or loopback address");
  EXPECT_EQ(fails(parse_address("10.0.0.0/8")), "\"10.0.0.0/8\" is a prefix; an address is needed here");
  EXPECT_TRUE(is_wildcard(must(parse_address("0.0.0.0"))));
  EXPECT_TRUE(is_wildcard(must(parse_address("::"))));
  EXPECT_FALSE(is_wildcard("127.0.0.1"));
}

TEST(ConfigScalars, Prefixes) {
  Prefix p = must(parse_prefix("127.0.0.0/8"));
  EXPECT_EQ(p.address, "127.0.0.0");
  EXPECT_EQ(p.length, 8);
  p = must(parse_prefix("::1"));
  EXPECT_EQ(p.address, "::1");
  EXPECT_EQ(p.length, -1);
  p = must(parse_prefix("fd00::/128"));
  EXPECT_EQ(p.length, 128);
  EXPECT_EQ(must(parse_prefix("0.0.0.0/0")).length, 0);
  EXPECT_EQ(fails(parse_prefix("10.0.0.0/33")), "\"10.0.0.0/33\": prefix length must be 0..32 for IPv4");
  EXPECT_EQ(fails(parse_prefix("fd00::/129")), "\"fd00::/129\": prefix length must be 0..128 for IPv6");
  EXPECT_EQ(fails(parse_prefix("10.0.0.0/")), "\"10.0.0.0/\": prefix length must be 0..32 for IPv4");
  EXPECT_EQ(fails(parse_prefix("10.0.0/8")),
            "\"10.0.0/8\": \"10.0.0\" is not an IPv4 or IPv6 address (host names are not resolved)");
}

TEST(ConfigScalars, StreamRanges) {
  EXPECT_EQ(must(parse_stream_range("7")), (std::pair<uint16_t, uint16_t>{7, 7}));
  EXPECT_EQ(must(parse_stream_range("0-7")), (std::pair<uint16_t, uint16_t>{0, 7}));
  EXPECT_EQ(must(parse_stream_range("0-65535")), (std::pair<uint16_t, uint16_t>{0, 65535}));
  EXPECT_EQ(fails(parse_stream_range("9-3")), "stream range \"9-3\" is backwards (write the lower stream first)");
  EXPECT_EQ(fails(parse_stream_range("65536")), "stream 65536 is out of range 0..65535");
  EXPECT_EQ(fails(parse_stream_range("1-70000")), "stream 70000 is out of range 0..65535");
  EXPECT_EQ(fails(parse_stream_range("x")), "expected a stream number or a range such as 0-7, got \"x\"");
  EXPECT_EQ(fails(parse_stream_range("-1")), "expected a stream number or a range such as 0-7, got \"-1\"");
  EXPECT_EQ(fails(parse_stream_range("1-")), "expected a stream number or a range such as 0-7, got \"1-\"");
}

}  // namespace
}  // namespace sctprelay::config::scalars
