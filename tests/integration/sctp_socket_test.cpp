// The SCTP socket layer against the real kernel: binding, associations, notifications and
// byte-exact message transfer over loopback (run inside the VM; the build host has no SCTP).
#include <poll.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sctp/socket.h"

namespace sctprelay::sctp {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kWait = std::chrono::seconds(10);

Address addr(const std::string& host, uint16_t port) {
  Address a;
  EXPECT_TRUE(Address::parse(host, port, a)) << host;
  return a;
}

// Deterministic payload: differs per message and per position.
std::vector<uint8_t> payload(std::size_t size, uint32_t seed) {
  std::vector<uint8_t> out(size);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x = x * 1664525u + 1013904223u;
    b = uint8_t(x >> 24);
  }
  return out;
}

// Reads the next message or notification, waiting up to the deadline. False on timeout.
bool next(Socket& s, Received& r, Clock::time_point deadline, std::size_t max = 1 << 20) {
  for (;;) {
    s.receive(r, max);
    if (r.status != RecvStatus::WouldBlock) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{s.fd(), POLLIN, 0};
    ::poll(&p, 1, int(left));
  }
}

// Waits for a notification of type T satisfying `pred`; other notifications are skipped,
// a data message is a failure (returned as nullopt with the message noted).
template <typename T, typename Pred>
std::optional<T> wait_for(Socket& s, Pred pred, std::vector<Notification>* seen = nullptr) {
  Received r;
  auto deadline = Clock::now() + kWait;
  while (next(s, r, deadline)) {
    if (r.status == RecvStatus::Error) {
      ADD_FAILURE() << "receive error " << r.ec.message();
      return std::nullopt;
    }
    if (r.status != RecvStatus::Notification) {
      ADD_FAILURE() << "unexpected data while waiting for a notification";
      return std::nullopt;
    }
    if (seen) seen->push_back(r.notification);
    if (const T* n = std::get_if<T>(&r.notification); n && pred(*n)) return *n;
  }
  ADD_FAILURE() << "timed out waiting for a notification";
  return std::nullopt;
}

std::optional<AssocChange> wait_assoc(Socket& s, uint16_t state) {
  return wait_for<AssocChange>(s, [state](const AssocChange& a) { return a.state == state; });
}

// Waits for the next data message (notifications are skipped).
bool next_message(Socket& s, Received& r, std::size_t max = 1 << 20) {
  auto deadline = Clock::now() + kWait;
  while (next(s, r, deadline, max)) {
    if (r.status == RecvStatus::Message || r.status == RecvStatus::Oversize || r.status == RecvStatus::OverBudget)
      return true;
    if (r.status == RecvStatus::Error) return false;
  }
  return false;
}

bool send_all(Socket& s, const MessageInfo& info, const std::vector<uint8_t>& data) {
  auto deadline = Clock::now() + kWait;
  std::error_code ec;
  for (;;) {
    auto st = s.send(info, data.data(), data.size(), ec);
    if (st == SendStatus::Sent) return true;
    if (st == SendStatus::Error) {
      ADD_FAILURE() << "send failed: " << ec.message();
      return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{s.fd(), POLLOUT, 0};
    ::poll(&p, 1, int(left));
  }
}

bool contains(const std::vector<Address>& list, const Address& a) {
  return std::find(list.begin(), list.end(), a) != list.end();
}

// A server bound to 127.0.0.1 and 127.0.0.2 and a client associated with both addresses.
class SctpSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::error_code ec;
    SocketOptions server_opts;
    server_opts.in_streams = 8;
    server_opts.out_streams = 8;
    server_ = Socket::open(AF_INET, server_opts, ec);
    ASSERT_TRUE(server_) << ec.message();
    ASSERT_TRUE(server_.bind({addr("127.0.0.1", 0), addr("127.0.0.2", 0)}, ec)) << ec.message();
    ASSERT_TRUE(server_.listen(16, ec)) << ec.message();
    auto local = server_.local_addresses();
    ASSERT_FALSE(local.empty());
    port_ = local[0].port();
    ASSERT_NE(port_, 0);

    SocketOptions client_opts;
    client_opts.out_streams = 10;
    client_opts.in_streams = 5;
    client_ = Socket::open(AF_INET, client_opts, ec);
    ASSERT_TRUE(client_) << ec.message();
    connect_id_ = client_.connect({addr("127.0.0.1", port_), addr("127.0.0.2", port_)}, ec);
    ASSERT_FALSE(ec) << ec.message();
    auto up = wait_assoc(client_, SCTP_COMM_UP);
    ASSERT_TRUE(up);
    client_up_ = *up;
    up = wait_assoc(server_, SCTP_COMM_UP);
    ASSERT_TRUE(up);
    server_up_ = *up;
  }

  // Sends from one side, receives on the other, and checks content and metadata.
  void round_trip(Socket& from, sctp_assoc_t from_assoc, Socket& to, sctp_assoc_t to_assoc,
                  std::size_t size, uint16_t stream, uint32_t ppid, bool unordered, uint32_t seed) {
    auto data = payload(size, seed);
    MessageInfo info;
    info.assoc = from_assoc;
    info.stream = stream;
    info.ppid = ppid;
    info.unordered = unordered;
    ASSERT_TRUE(send_all(from, info, data));
    ASSERT_TRUE(next_message(to, rx_));
    ASSERT_EQ(rx_.status, RecvStatus::Message);
    EXPECT_EQ(rx_.info.assoc, to_assoc);
    EXPECT_EQ(rx_.info.stream, stream);
    EXPECT_EQ(rx_.info.ppid, ppid);
    EXPECT_EQ(rx_.info.unordered, unordered);
    ASSERT_EQ(rx_.data.size(), data.size());
    EXPECT_TRUE(rx_.data == data) << "payload of " << size << " bytes differs";
  }

  Socket server_, client_;
  uint16_t port_ = 0;
  sctp_assoc_t connect_id_ = 0;
  AssocChange client_up_{}, server_up_{};
  Received rx_;
};

TEST_F(SctpSocketTest, CommUpReportsNegotiatedStreams) {
  // Outbound streams are capped by the peer's maximum inbound ones.
  EXPECT_EQ(client_up_.outbound_streams, 8);
  EXPECT_EQ(client_up_.inbound_streams, 5);
  EXPECT_EQ(server_up_.outbound_streams, 5);
  EXPECT_EQ(server_up_.inbound_streams, 8);
  EXPECT_NE(client_up_.assoc, 0);
  EXPECT_NE(server_up_.assoc, 0);
  EXPECT_EQ(connect_id_, client_up_.assoc);  // sctp_connectx reports the id before COMM_UP
}

TEST_F(SctpSocketTest, BindsEveryAddress) {
  auto local = server_.local_addresses();
  EXPECT_EQ(local.size(), 2u);
  EXPECT_TRUE(contains(local, addr("127.0.0.1", port_)));
  EXPECT_TRUE(contains(local, addr("127.0.0.2", port_)));
}

TEST_F(SctpSocketTest, PeerAddressesListBothServerAddresses) {
  auto peers = client_.peer_addresses(client_up_.assoc);
  EXPECT_EQ(peers.size(), 2u);
  EXPECT_TRUE(contains(peers, addr("127.0.0.1", port_)));
  EXPECT_TRUE(contains(peers, addr("127.0.0.2", port_)));
  auto primary = client_.primary_address(client_up_.assoc);
  ASSERT_EQ(primary.size(), 1u);
  EXPECT_TRUE(contains(peers, primary[0])) << primary[0].to_string();
  EXPECT_TRUE(client_.peer_addresses(9999).empty());
}

class SctpTransferTest : public SctpSocketTest, public ::testing::WithParamInterface<std::size_t> {};

TEST_P(SctpTransferTest, MessagesArriveByteExactWithMetadata) {
  const std::size_t size = GetParam();
  round_trip(client_, client_up_.assoc, server_, server_up_.assoc, size, 7, 0xA1B2C3D4u, false, 1);
  EXPECT_EQ(rx_.source.family(), AF_INET);
  EXPECT_EQ(rx_.source.host(), "127.0.0.1");
  round_trip(client_, client_up_.assoc, server_, server_up_.assoc, size, 0, 46, true, 2);
  // And back, on a stream only the server->client direction has.
  round_trip(server_, server_up_.assoc, client_, client_up_.assoc, size, 4, 1, false, 3);
  round_trip(server_, server_up_.assoc, client_, client_up_.assoc, size, 1, 0xFFFFFFFFu, true, 4);
}

INSTANTIATE_TEST_SUITE_P(Sctp, SctpTransferTest, ::testing::Values(1, 1024, 65536, 262144),
                         [](const auto& info) { return std::to_string(info.param) + "B"; });

TEST_F(SctpSocketTest, PpidIsInNetworkOrderOnTheWire) {
  // Receive with the bare socket API: the kernel hands over the PPID as carried in the packet.
  uint8_t byte = 'x';
  std::error_code ec;
  MessageInfo info;
  info.assoc = client_up_.assoc;
  info.ppid = 0x01020304;
  ASSERT_EQ(client_.send(info, &byte, 1, ec), SendStatus::Sent) << ec.message();
  pollfd p{server_.fd(), POLLIN, 0};
  alignas(cmsghdr) char control[256];
  char buf[16];
  for (;;) {
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ASSERT_GT(::recvmsg(server_.fd(), &msg, 0), 0);
    if (msg.msg_flags & MSG_NOTIFICATION) continue;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->cmsg_type, SCTP_RCVINFO);
    sctp_rcvinfo rcv;
    std::memcpy(&rcv, CMSG_DATA(c), sizeof rcv);
    EXPECT_EQ(rcv.rcv_ppid, htonl(0x01020304));
    break;
  }
}

TEST_F(SctpSocketTest, ReusedBufferTakesSmallerAfterLargerMessage) {
  round_trip(client_, client_up_.assoc, server_, server_up_.assoc, 200000, 1, 5, false, 10);
  round_trip(client_, client_up_.assoc, server_, server_up_.assoc, 3, 1, 5, false, 11);
  EXPECT_EQ(rx_.data.size(), 3u);
  round_trip(client_, client_up_.assoc, server_, server_up_.assoc, 70000, 2, 5, false, 12);
}

TEST_F(SctpSocketTest, ManyMessagesKeepPerStreamOrder) {
  constexpr int kCount = 300;
  std::map<uint16_t, std::vector<int>> expected;
  for (int i = 0; i < kCount; ++i) {
    MessageInfo info;
    info.assoc = client_up_.assoc;
    info.stream = uint16_t(i % 5);
    info.ppid = uint32_t(i);
    ASSERT_TRUE(send_all(client_, info, payload(1 + (i * 997) % 5000, i)));
    expected[info.stream].push_back(i);
  }
  std::map<uint16_t, std::vector<int>> got;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(next_message(server_, rx_)) << "message " << i;
    ASSERT_EQ(rx_.status, RecvStatus::Message);
    int seq = int(rx_.info.ppid);
    ASSERT_LT(seq, kCount);
    EXPECT_EQ(rx_.info.stream, seq % 5);
    EXPECT_TRUE(rx_.data == payload(1 + (seq * 997) % 5000, seq)) << "message " << seq;
    got[rx_.info.stream].push_back(seq);
  }
  EXPECT_EQ(got, expected);
}

TEST_F(SctpSocketTest, OversizeMessageIsDiscardedWhole) {
  MessageInfo info;
  info.assoc = client_up_.assoc;
  info.stream = 3;
  info.ppid = 9;
  ASSERT_TRUE(send_all(client_, info, payload(5000, 1)));
  ASSERT_TRUE(send_all(client_, info, payload(200000, 2)));  // several reads to skip
  info.ppid = 10;
  auto small = payload(10, 3);
  ASSERT_TRUE(send_all(client_, info, small));

  ASSERT_TRUE(next_message(server_, rx_, 1000));
  EXPECT_EQ(rx_.status, RecvStatus::Oversize);
  EXPECT_EQ(rx_.info.stream, 3);
  EXPECT_EQ(rx_.info.ppid, 9u);
  ASSERT_TRUE(next_message(server_, rx_, 1000));
  EXPECT_EQ(rx_.status, RecvStatus::Oversize);
  ASSERT_TRUE(next_message(server_, rx_, 1000));
  ASSERT_EQ(rx_.status, RecvStatus::Message);
  EXPECT_EQ(rx_.info.ppid, 10u);
  EXPECT_TRUE(rx_.data == small);
}

TEST_F(SctpSocketTest, SenderDryAfterDataIsAcknowledged) {
  MessageInfo info;
  info.assoc = client_up_.assoc;
  ASSERT_TRUE(send_all(client_, info, payload(30000, 1)));
  auto dry = wait_for<SenderDry>(client_, [&](const SenderDry& d) { return d.assoc == client_up_.assoc; });
  ASSERT_TRUE(dry);
  ASSERT_TRUE(next_message(server_, rx_));
  EXPECT_EQ(rx_.data.size(), 30000u);
}

TEST_F(SctpSocketTest, GracefulShutdownNotifiesBothSides) {
  client_.shutdown(client_up_.assoc);
  std::vector<Notification> seen;
  auto comp = wait_for<AssocChange>(
      server_, [](const AssocChange& a) { return a.state == SCTP_SHUTDOWN_COMP; }, &seen);
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->assoc, server_up_.assoc);
  bool shutdown_event = std::any_of(seen.begin(), seen.end(), [&](const Notification& n) {
    auto* s = std::get_if<ShutdownEvent>(&n);
    return s && s->assoc == server_up_.assoc;
  });
  EXPECT_TRUE(shutdown_event) << "no SCTP_SHUTDOWN_EVENT before SHUTDOWN_COMP";
  auto client_comp = wait_assoc(client_, SCTP_SHUTDOWN_COMP);
  ASSERT_TRUE(client_comp);
  EXPECT_EQ(client_comp->assoc, client_up_.assoc);
}

TEST_F(SctpSocketTest, PeerCloseEndsAssociationGracefully) {
  client_.close();
  auto comp = wait_assoc(server_, SCTP_SHUTDOWN_COMP);
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->assoc, server_up_.assoc);
}

TEST_F(SctpSocketTest, AbortIsCommLostForThePeer) {
  client_.abort(client_up_.assoc);
  auto lost = wait_assoc(server_, SCTP_COMM_LOST);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->assoc, server_up_.assoc);
  // Sending on the aborted association fails without throwing or raising SIGPIPE.
  std::error_code ec;
  MessageInfo info;
  info.assoc = client_up_.assoc;
  uint8_t byte = 1;
  EXPECT_EQ(client_.send(info, &byte, 1, ec), SendStatus::Error);
  EXPECT_TRUE(ec);
}

TEST(SctpSendFailed, UnsentDataComesBackWhenThePeerAborts) {
  std::error_code ec;
  SocketOptions server_opts;
  server_opts.rcvbuf = 4096;  // a receiver that does not read soon closes its window
  Socket server = Socket::open(AF_INET, server_opts, ec);
  ASSERT_TRUE(server) << ec.message();
  ASSERT_TRUE(server.bind({addr("127.0.0.1", 0)}, ec));
  ASSERT_TRUE(server.listen(4, ec));
  uint16_t port = server.local_addresses().at(0).port();
  SocketOptions client_opts;
  client_opts.sndbuf = 65536;
  Socket client = Socket::open(AF_INET, client_opts, ec);
  ASSERT_TRUE(client);
  client.connect({addr("127.0.0.1", port)}, ec);
  ASSERT_FALSE(ec);
  auto up = wait_assoc(client, SCTP_COMM_UP);
  ASSERT_TRUE(up);
  ASSERT_TRUE(wait_assoc(server, SCTP_COMM_UP));

  MessageInfo info;
  info.assoc = up->assoc;
  info.stream = 2;
  info.ppid = 77;
  int queued = 0;
  for (; queued < 20000; ++queued) {
    auto data = payload(1000, queued);
    auto st = client.send(info, data.data(), data.size(), ec);
    if (st == SendStatus::WouldBlock) break;
    ASSERT_EQ(st, SendStatus::Sent) << ec.message();
  }
  ASSERT_LT(queued, 20000) << "the send buffer never filled";

  server.close();  // unread data: the kernel ABORTs the association
  std::vector<Notification> seen;
  ASSERT_TRUE(wait_for<AssocChange>(
      client, [](const AssocChange& a) { return a.state == SCTP_COMM_LOST; }, &seen));
  // The kernel queues the failed sends when it frees the association, in the same step that
  // reported COMM_LOST: they are already there.
  Received r;
  while (next(client, r, Clock::now()))
    if (r.status == RecvStatus::Notification) seen.push_back(r.notification);
  int failed = 0;
  for (const auto& n : seen) {
    const auto* sf = std::get_if<SendFailed>(&n);
    if (!sf) continue;
    ++failed;
    EXPECT_EQ(sf->assoc, up->assoc);
    EXPECT_EQ(sf->info.stream, 2);
    EXPECT_EQ(sf->info.ppid, 77u);
    ASSERT_EQ(sf->data.size(), 1000u);
  }
  EXPECT_GT(failed, 0) << "no SCTP_SEND_FAILED_EVENT among " << seen.size() << " notifications";
}

TEST(SctpIpv6, Ipv6SocketCarriesIpv6AndIpv4Peers) {
  std::error_code ec;
  Socket server = Socket::open(AF_INET6, {}, ec);
  ASSERT_TRUE(server) << ec.message();
  if (!server.bind({addr("::", 0)}, ec)) GTEST_SKIP() << "no IPv6 in this kernel: " << ec.message();
  ASSERT_TRUE(server.listen(4, ec));
  uint16_t port = server.local_addresses().at(0).port();

  for (const char* host : {"::1", "127.0.0.1"}) {
    Address target = addr(host, port);
    Socket client = Socket::open(family_for({target}), {}, ec);
    ASSERT_TRUE(client) << ec.message();
    client.connect({target}, ec);
    ASSERT_FALSE(ec) << host << ": " << ec.message();
    auto up = wait_assoc(client, SCTP_COMM_UP);
    ASSERT_TRUE(up) << host;
    MessageInfo info;
    info.assoc = up->assoc;
    info.ppid = 6;
    auto data = payload(3000, 6);
    ASSERT_TRUE(send_all(client, info, data));
    Received r;
    ASSERT_TRUE(next_message(server, r)) << host;
    EXPECT_TRUE(r.data == data);
    EXPECT_EQ(r.info.ppid, 6u);
    EXPECT_EQ(r.source.host(), host);  // IPv4 peers are not shown as ::ffff:a.b.c.d
  }
}

// Pure address handling (no SCTP needed).
TEST(SctpAddress, ParsesAndPrintsIpv4AndIpv6) {
  Address a;
  ASSERT_TRUE(Address::parse("192.0.2.7", 3868, a));
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.port(), 3868);
  EXPECT_EQ(a.length(), socklen_t(sizeof(sockaddr_in)));
  EXPECT_EQ(a.to_string(), "192.0.2.7:3868");
  EXPECT_EQ(a.host(), "192.0.2.7");

  ASSERT_TRUE(Address::parse("2001:db8::1", 80, a));
  EXPECT_EQ(a.family(), AF_INET6);
  EXPECT_EQ(a.length(), socklen_t(sizeof(sockaddr_in6)));
  EXPECT_EQ(a.to_string(), "[2001:db8::1]:80");
  ASSERT_TRUE(Address::parse("[::1]", 9, a));
  EXPECT_EQ(a.to_string(), "[::1]:9");

  EXPECT_FALSE(Address::parse("example.org", 1, a));  // numeric only
  EXPECT_FALSE(Address::parse("1.2.3", 1, a));
  EXPECT_FALSE(Address::parse("", 1, a));
  EXPECT_FALSE(Address::parse("::1%no-such-interface", 1, a));
}

TEST(SctpAddress, EqualityAndMappedIpv4) {
  EXPECT_EQ(addr("10.0.0.1", 5), addr("10.0.0.1", 5));
  EXPECT_FALSE(addr("10.0.0.1", 5) == addr("10.0.0.1", 6));
  EXPECT_FALSE(addr("10.0.0.1", 5) == addr("10.0.0.2", 5));
  EXPECT_FALSE(addr("::1", 5) == addr("127.0.0.1", 5));
  Address mapped = addr("::ffff:10.0.0.1", 5);
  Address from = Address::from(mapped.sa(), mapped.length());
  EXPECT_EQ(from.family(), AF_INET);
  EXPECT_EQ(from, addr("10.0.0.1", 5));
}

TEST(SctpAddress, ParseListReportsTheBadHost) {
  std::error_code ec;
  std::string bad;
  auto list = parse_addresses({"127.0.0.1", "::1"}, 7, ec, &bad);
  ASSERT_FALSE(ec);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].port(), 7);
  EXPECT_EQ(family_for(list), AF_INET6);
  EXPECT_EQ(family_for({list[0]}), AF_INET);
  list = parse_addresses({"127.0.0.1", "nope"}, 7, ec, &bad);
  EXPECT_EQ(ec, std::errc::invalid_argument);
  EXPECT_EQ(bad, "nope");
  EXPECT_TRUE(list.empty());
}

TEST(SctpNames, StatesHaveNames) {
  EXPECT_STREQ(assoc_state_name(SCTP_COMM_UP), "COMM_UP");
  EXPECT_STREQ(assoc_state_name(SCTP_CANT_STR_ASSOC), "CANT_STR_ASSOC");
  EXPECT_STREQ(assoc_state_name(999), "UNKNOWN");
  EXPECT_STREQ(paddr_state_name(SCTP_ADDR_CONFIRMED), "ADDR_CONFIRMED");
}

// Messages still arriving in pieces share one budget: a message that would take it beyond its
// limit is reported once and discarded, its bytes given back; the next message is unaffected.
TEST_F(SctpSocketTest, AMessageBeyondTheReassemblyBudgetIsDiscardedAndItsBytesGivenBack) {
  ReassemblyBudget budget;
  budget.limit = 100000;
  server_.set_reassembly_budget(&budget);
  MessageInfo info;
  info.assoc = client_up_.assoc;
  info.stream = 2;
  info.ppid = 5;
  ASSERT_TRUE(send_all(client_, info, payload(300000, 1)));  // within max_message, beyond the budget
  auto small = payload(100, 2);
  ASSERT_TRUE(send_all(client_, info, small));

  ASSERT_TRUE(next_message(server_, rx_, 1 << 20));
  EXPECT_EQ(rx_.status, RecvStatus::OverBudget);
  EXPECT_EQ(rx_.info.stream, 2);
  ASSERT_TRUE(next_message(server_, rx_, 1 << 20));
  ASSERT_EQ(rx_.status, RecvStatus::Message);
  EXPECT_TRUE(rx_.data == small);
  EXPECT_EQ(budget.used, 0u);
  server_.set_reassembly_budget(nullptr);
}

// A message that is still arriving when its socket changes budget (a socket handed to another
// worker is charged to that worker's from then on): its bytes so far move to the new budget, the
// old one gets them back, and the message still arrives whole.
TEST(SctpSocketBudget, APartialMessageMovesToTheNewBudget) {
  std::error_code ec;
  SocketOptions small;
  small.rcvbuf = 64 << 10;  // a message 8 times this arrives in pieces (partial delivery)
  Socket server = Socket::open(AF_INET, small, ec);
  ASSERT_TRUE(server) << ec.message();
  ASSERT_TRUE(server.bind({addr("127.0.0.1", 0)}, ec)) << ec.message();
  ASSERT_TRUE(server.listen(4, ec)) << ec.message();
  Socket client = Socket::open(AF_INET, SocketOptions{}, ec);
  ASSERT_TRUE(client) << ec.message();
  client.connect({addr("127.0.0.1", server.local_addresses().at(0).port())}, ec);
  ASSERT_FALSE(ec) << ec.message();
  auto up = wait_assoc(client, SCTP_COMM_UP);
  ASSERT_TRUE(up);
  ASSERT_TRUE(wait_assoc(server, SCTP_COMM_UP));

  ReassemblyBudget first, second;
  server.set_reassembly_budget(&first);
  const auto big = payload(1 << 20, 7);
  MessageInfo info;
  info.assoc = up->assoc;
  info.stream = 1;
  info.ppid = 9;
  bool sent = false;
  std::thread sender([&] { sent = send_all(client, info, big); });

  // Read until part of it is held (the rest cannot arrive before the reader makes room).
  Received rx;
  const auto deadline = Clock::now() + kWait;
  while (first.used == 0 && Clock::now() < deadline) {
    server.receive(rx, 4 << 20);
    ASSERT_NE(rx.status, RecvStatus::Message) << "it arrived whole: no partial message to move";
    ASSERT_NE(rx.status, RecvStatus::Error) << rx.ec.message();
    if (rx.status == RecvStatus::WouldBlock) {
      pollfd p{server.fd(), POLLIN, 0};
      ::poll(&p, 1, 100);
    }
  }
  const std::size_t held = first.used;
  ASSERT_GT(held, 0u) << "no part of the message was ever held";
  ASSERT_LT(held, big.size());

  server.set_reassembly_budget(&second);
  EXPECT_EQ(first.used, 0u);
  EXPECT_EQ(second.used, held);

  ASSERT_TRUE(next_message(server, rx, 4 << 20));
  sender.join();
  EXPECT_TRUE(sent);
  ASSERT_EQ(rx.status, RecvStatus::Message);
  EXPECT_EQ(rx.info.stream, 1);
  EXPECT_EQ(rx.info.ppid, 9u);
  EXPECT_TRUE(rx.data == big) << "the message changed on the way (" << rx.data.size() << " bytes)";
  EXPECT_EQ(first.used, 0u);
  EXPECT_EQ(second.used, 0u);
  server.set_reassembly_budget(nullptr);
}

}  // namespace
}  // namespace sctprelay::sctp