// sctprelay-client's output records (tools/client/output.h): JSON lines that tests and scripts
// parse (field names, types and order), the key=value rendering, and the SHA-256 digests
// (OpenSSL) that --verify and every message line carry.
#include "client/output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "client/digest.h"

namespace sctprelay::client {
namespace {

std::string sha256_of(const std::string& s) {
  return sha256_hex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(ClientOutput, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(nullptr, 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_of(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ClientOutput, JsonIsOneObjectWithTypedFieldsInOrder) {
  Record r("summary");
  r.add("sent", uint64_t(18446744073709551615u)).add("assoc", -3).add("streams", 16u);
  r.add_bool("valid", true).add("state", "COMM_UP").add("peers", std::vector<std::string>{"127.0.0.1:1", "[::1]:2"});
  const std::string line = r.json();
  EXPECT_EQ(line,
            "{\"event\":\"summary\",\"sent\":18446744073709551615,\"assoc\":-3,\"streams\":16,\"valid\":true,"
            "\"state\":\"COMM_UP\",\"peers\":[\"127.0.0.1:1\",\"[::1]:2\"]}");
  const auto j = nlohmann::json::parse(line);
  EXPECT_TRUE(j["sent"].is_number_unsigned());
  EXPECT_TRUE(j["assoc"].is_number_integer());
  EXPECT_TRUE(j["valid"].is_boolean());
  EXPECT_TRUE(j["peers"].is_array());
}

TEST(ClientOutput, HumanWordsQuoteOnlyWhatNeedsIt) {
  Record r("up");
  r.add("assoc", 3).add("peers", std::vector<std::string>{"127.0.0.1:5000", "127.0.0.2:5000"});
  r.add("data", "two words").add("empty", "").add("valid", "yes");
  EXPECT_EQ(r.human(), "up assoc=3 peers=127.0.0.1:5000,127.0.0.2:5000 data=\"two words\" empty=\"\" valid=yes");
  Record unlabelled("message", false);
  unlabelled.add("assoc", 4).add_bool("ok", false);
  EXPECT_EQ(unlabelled.human(), "assoc=4 ok=no");
}

TEST(ClientOutput, JsonOnlyAndHumanOnlyFields) {
  sctp::MessageInfo info;
  info.stream = 2;
  info.ppid = 46;
  info.unordered = true;
  const std::string payload = "abc";
  Record r("reply");
  describe_message(r, info, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), true);
  EXPECT_EQ(r.json(),
            "{\"event\":\"reply\",\"stream\":2,\"ppid\":46,\"unordered\":true,\"size\":3,\"sha256\":"
            "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\",\"data\":\"abc\","
            "\"data_hex\":\"616263\"}");
  EXPECT_EQ(r.human(),
            "reply stream=2 ppid=46 flags=unordered size=3 "
            "sha256=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad data=abc data_hex=616263");
}

TEST(ClientOutput, DataOnlyWhenPrintableAndShort) {
  sctp::MessageInfo info;
  const std::string binary("a\0b", 3);
  Record r("message");
  describe_message(r, info, reinterpret_cast<const uint8_t*>(binary.data()), binary.size(), false);
  EXPECT_EQ(nlohmann::json::parse(r.json()).count("data"), 0u);
  const std::string long_text(257, 'x');
  Record l("message");
  describe_message(l, info, reinterpret_cast<const uint8_t*>(long_text.data()), long_text.size(), false);
  EXPECT_EQ(nlohmann::json::parse(l.json()).count("data"), 0u);
}

TEST(ClientOutput, ControlCharactersAndBrokenUtf8StayValidJson) {
  Record r("x");
  const char raw[] = "tab\there\nquote\" back\\ nul\0 bell\x07 bad\xff\xfe end";
  r.add("text", std::string(raw, sizeof raw - 1));
  const std::string line = r.json();
  for (unsigned char c : line) EXPECT_GE(c, 0x20) << "a raw control character";
  ASSERT_TRUE(nlohmann::json::accept(line)) << line;
  const std::string text = nlohmann::json::parse(line)["text"];
  EXPECT_NE(text.find("tab\there\nquote\" back\\ nul"), std::string::npos);
  EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos) << "invalid bytes become U+FFFD";
}

}  // namespace
}  // namespace sctprelay::client
