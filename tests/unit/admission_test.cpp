// Admission control and limits on what associations may cost: listeners[].allow,
// max_associations and rate (config, the admission decision, the token bucket), and
// limits.max_queued_bytes (config, and every queue charging the one budget).
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config_helpers.h"
#include "relay/admission.h"
#include "relay/out_queue.h"
#include "relay/rate_limiter.h"

namespace sctprelay {
namespace {

using test::Lines;
using test::load_ok;
using test::errors_of;
using namespace std::chrono_literals;

std::string with_listener(const std::string& extra) {
  return "listeners:\n  - name: ran\n    address: 127.0.0.1\n    port: 36412\n" + extra;
}

sctp::Address addr(const std::string& host, uint16_t port = 4000) {
  sctp::Address a;
  EXPECT_TRUE(sctp::Address::parse(host, port, a)) << host;
  return a;
}

TEST(AdmissionConfig, DefaultsAdmitAnyoneWithoutLimits) {
  config::Config c = load_ok(with_listener(""));
  EXPECT_TRUE(c.listeners[0].allow.empty());
  EXPECT_FALSE(c.listeners[0].max_associations);
  EXPECT_FALSE(c.listeners[0].rate);
  EXPECT_EQ(c.limits.max_queued_bytes, 256u * 1024 * 1024);
}

TEST(AdmissionConfig, AllowMaxAssociationsAndRateParse) {
  config::Config c = load_ok(with_listener(
      "    allow: [10.0.0.0/8, 192.0.2.7, \"2001:db8::/32\"]\n"
      "    max_associations: 200\n"
      "    rate: {messages_per_second: 5000, burst: 100}\n"
      "limits:\n  max_queued_bytes: 32MiB\n"));
  const auto& l = c.listeners[0];
  ASSERT_EQ(l.allow.size(), 3u);
  EXPECT_EQ(l.allow[0].address, "10.0.0.0");
  EXPECT_EQ(l.allow[0].length, 8);
  EXPECT_EQ(l.allow[1].length, -1);
  EXPECT_EQ(l.allow[2].address, "2001:db8::");
  EXPECT_EQ(*l.max_associations, 200u);
  EXPECT_EQ(l.rate->messages_per_second, 5000u);
  EXPECT_EQ(l.rate->burst, 100u);
  EXPECT_EQ(c.limits.max_queued_bytes, 32u * 1024 * 1024);
  // A single prefix may stand alone; a burst left out is a second's worth.
  c = load_ok(with_listener("    allow: 127.0.0.0/8\n    rate: {messages_per_second: 20}\n"));
  EXPECT_EQ(c.listeners[0].allow.size(), 1u);
  EXPECT_EQ(c.listeners[0].rate->burst, 20u);
}

TEST(AdmissionConfig, BadValuesAreNamedWithTheirPosition) {
  EXPECT_EQ(errors_of(with_listener("    allow: [10.0.0.0/33, example.com]\n")),
            Lines({"t.yaml:5:13: listeners[0].allow[0]: \"10.0.0.0/33\": prefix length must be 0..32 for IPv4",
                   "t.yaml:5:26: listeners[0].allow[1]: \"example.com\" is not an IPv4 or IPv6 address (host names "
                   "are not resolved)"}));
  EXPECT_EQ(errors_of(with_listener("    allow: []\n")),
            Lines({"t.yaml:5:12: listeners[0].allow: expected address prefixes, got an empty list"}));
  EXPECT_EQ(errors_of(with_listener("    max_associations: 0\n")),
            Lines({"t.yaml:5:23: listeners[0].max_associations: 0 is out of range 1..10000000"}));
  EXPECT_EQ(errors_of(with_listener("    rate: {burst: 5, per_second: 3}\n")),
            Lines({"t.yaml:5:11: listeners[0].rate: missing required key \"messages_per_second\"",
                   "t.yaml:5:22: listeners[0].rate.per_second: unknown key \"per_second\" (allowed: "
                   "messages_per_second, burst)"}));
  EXPECT_EQ(errors_of(with_listener("limits:\n  max_queued_bytes: 64KiB\n")),
            Lines({"t.yaml:6:21: limits.max_queued_bytes: 64KiB is below limits.max_message_size (1MiB, the "
                   "default): the queues must be able to hold at least one whole message"}));
}

config::Listener listener(std::vector<config::Prefix> allow, std::optional<std::size_t> max = std::nullopt) {
  config::Listener l;
  l.name = "ran";
  l.allow = std::move(allow);
  l.max_associations = max;
  return l;
}

TEST(Admission, EveryAddressOfAMultiHomedPeerMustBeAllowed) {
  auto l = listener({{"127.0.0.2", -1}, {"10.0.0.0", 8}});
  EXPECT_FALSE(relay::admit(l, {addr("127.0.0.2"), addr("10.9.8.7")}, 0));
  relay::Refusal r = relay::admit(l, {addr("127.0.0.2"), addr("127.0.0.3")}, 0);
  EXPECT_EQ(r.reason, relay::Refusal::Reason::NotAllowed);
  EXPECT_EQ(r.cause, "address 127.0.0.3:4000 not allowed on listener ran");
  // Unknown addresses cannot be shown to be allowed.
  EXPECT_EQ(relay::admit(l, {}, 0).reason, relay::Refusal::Reason::NotAllowed);
  // No list: anyone, even unknown.
  EXPECT_FALSE(relay::admit(listener({}), {}, 0));
}

TEST(Admission, TheAssociationBeyondMaxAssociationsIsRefused) {
  auto l = listener({}, 2);
  EXPECT_FALSE(relay::admit(l, {addr("127.0.0.1")}, 0));
  EXPECT_FALSE(relay::admit(l, {addr("127.0.0.1")}, 1));
  relay::Refusal r = relay::admit(l, {addr("127.0.0.1")}, 2);
  EXPECT_EQ(r.reason, relay::Refusal::Reason::TooMany);
  EXPECT_EQ(r.cause, "listener ran is at its limit of 2 associations");
  // Not allowed is said first: it is the reason that will not go away.
  auto both = listener({{"10.0.0.0", 8}}, 1);
  EXPECT_EQ(relay::admit(both, {addr("127.0.0.1")}, 5).reason, relay::Refusal::Reason::NotAllowed);
  EXPECT_FALSE(relay::admit_added_address(both, addr("10.1.1.1")));
  relay::Refusal added = relay::admit_added_address(both, addr("11.1.1.1"));
  EXPECT_EQ(added.reason, relay::Refusal::Reason::NotAllowed);
  EXPECT_EQ(added.cause, "added address 11.1.1.1:4000 not allowed on listener ran");
  EXPECT_TRUE(relay::address_allowed(both, addr("10.1.1.1")));
  EXPECT_FALSE(relay::address_allowed(both, addr("11.1.1.1")));
}

TEST(RateLimiter, BurstThenTheConfiguredRateExactly) {
  const auto t0 = relay::RateLimiter::Clock::time_point{} + 1h;
  relay::RateLimiter r({100, 10}, t0);  // 100/s, burst 10
  int read = 0;
  while (r.take(t0)) ++read;
  EXPECT_EQ(read + 1, 10);  // the tenth message empties the bucket (it is still forwarded)
  EXPECT_EQ(r.wait(t0), std::chrono::duration_cast<relay::RateLimiter::Clock::duration>(10ms) +
                            relay::RateLimiter::Clock::duration(1));
  EXPECT_EQ(r.wait(t0 + 10ms), relay::RateLimiter::Clock::duration::zero());
  // A batch already read may leave it in debt: it then waits until the debt is paid.
  EXPECT_FALSE(r.take(t0 + 10ms));
  EXPECT_FALSE(r.take(t0 + 10ms));
  EXPECT_FALSE(r.take(t0 + 10ms));  // now at -2 tokens
  EXPECT_GT(r.wait(t0 + 39ms), relay::RateLimiter::Clock::duration::zero());
  EXPECT_EQ(r.wait(t0 + 40ms), relay::RateLimiter::Clock::duration::zero());
  // Over a long stretch: 100 per second, not more.
  auto t = t0 + 1h;
  r = relay::RateLimiter({100, 10}, t);
  int taken = 0;
  for (auto end = t + 10s; t < end; t += 1ms)
    while (r.wait(t) == relay::RateLimiter::Clock::duration::zero()) {
      r.take(t);
      ++taken;
    }
  EXPECT_GE(taken, 1000);
  EXPECT_LE(taken, 1010);  // plus the first burst
}

TEST(RateLimiter, AReloadKeepsTokensWithinTheNewBurst) {
  const auto t0 = relay::RateLimiter::Clock::time_point{} + 1h;
  relay::RateLimiter r({1000, 1000}, t0);
  r.set_rate({10, 5});
  int read = 1;
  while (r.take(t0)) ++read;
  EXPECT_EQ(read, 5);
}

TEST(QueueBudget, EveryQueueChargesTheOneBudgetAndGivesItBack) {
  relay::QueueBudget budget(1000);
  const std::vector<uint8_t> data(300, 7);
  {
    relay::OutQueue a, b;
    a.set_budget(&budget);
    b.set_budget(&budget);
    sctp::MessageInfo info;
    a.push_back(info, data.data(), data.size(), relay::Clock::now(), {});
    b.push_back(info, data.data(), data.size(), relay::Clock::now(), {});
    EXPECT_EQ(budget.used(), 600u);
    EXPECT_TRUE(budget.fits(400));
    EXPECT_FALSE(budget.fits(401));
    EXPECT_FALSE(budget.past_high_water());
    b.push_back(info, data.data(), 150, relay::Clock::now(), {});
    EXPECT_TRUE(budget.past_high_water());  // 750 of 1000
    a.pop_front();
    EXPECT_EQ(budget.used(), 450u);
    EXPECT_EQ(budget.peak(), 750u);
    // Messages handed back go through the same accounting.
    relay::QueuedMessage m;
    m.data.assign(100, 1);
    m.returned = true;
    std::vector<relay::QueuedMessage> back;
    back.push_back(std::move(m));
    a.put_back(std::move(back));
    EXPECT_EQ(budget.used(), 550u);
  }
  EXPECT_EQ(budget.used(), 0u);  // queues that go away give back what they held
  relay::QueueBudget unlimited;
  EXPECT_TRUE(unlimited.fits(SIZE_MAX / 2));
  EXPECT_FALSE(unlimited.past_high_water());
}

TEST(QueueBudget, ADrainedFloodGivesItsBuffersBack) {
  relay::OutQueue q;
  const std::vector<uint8_t> data(64 * 1024, 7);
  sctp::MessageInfo info;
  for (int i = 0; i < 200; ++i) q.push_back(info, data.data(), data.size(), relay::Clock::now(), {});
  for (int i = 0; i < 199; ++i) q.pop_front();
  EXPECT_EQ(q.size(), 1u);
  // A trim right after keeps what the queue held within the last period (it may be in use)...
  q.trim();
  EXPECT_GE(q.retained_bytes(), 200u * 64 * 1024);
  // ... the next gives back all but a few spare buffers (not 200 x 64 KiB for one message).
  q.trim();
  EXPECT_LE(q.retained_bytes(), 512u * 1024);
  // The one left is intact.
  EXPECT_EQ(q.front().data, data);
}

}  // namespace
}  // namespace sctprelay
