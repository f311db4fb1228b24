// `return` on destinations: origin by default for peers, routes by default for groups.
#include <gtest/gtest.h>

#include "config/loader.h"

using namespace sctprelay::config;

TEST(ConfigReturnPath, PeersDefaultToOriginGroupsToRoutesAndBothCanBeSet) {
  auto r = load_string(R"(
listeners:
  - {name: in, address: 127.0.0.1, port: 5000}
destinations:
  - {name: peer-default, address: 127.0.0.1, port: 6000}
  - {name: peer-routes, address: 127.0.0.1, port: 6001, return: routes}
  - {name: group-default, kind: group}
  - {name: group-origin, kind: group, return: origin}
)", "t.yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  auto& d = r.config->destinations;
  EXPECT_EQ(d[0].return_path, ReturnPath::Origin);
  EXPECT_EQ(d[1].return_path, ReturnPath::Routes);
  EXPECT_EQ(d[2].return_path, ReturnPath::Routes);
  EXPECT_EQ(d[3].return_path, ReturnPath::Origin);
}

TEST(ConfigReturnPath, AnUnknownReturnModeIsAnErrorAtItsPosition) {
  auto r = load_string(R"(destinations:
  - {name: g, kind: group, return: sender}
)", "t.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string().rfind("t.yaml:2:", 0), 0u) << r.errors[0].to_string();
  EXPECT_NE(r.errors[0].to_string().find("destinations[0].return"), std::string::npos) << r.errors[0].to_string();
}
