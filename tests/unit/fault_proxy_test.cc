// FaultProxy against small loopback servers (echo, sink, source): every mode, both directions,
// sender classification of HTTP/1.x requests, and a prompt destructor whatever the mode.
#include "fault_proxy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// A blocking client socket connected to 127.0.0.1:port, or -1.
int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const sockaddr_in addr = Loopback(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Closes the descriptor when the test ends, passed or not.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

enum class ReadResult { kData, kEof, kReset, kError, kTimeout };

// Waits up to `timeout` for something to read: data (appended to *out), EOF or an error.
ReadResult ReadSome(int fd, absl::Duration timeout, std::string* out = nullptr) {
  pollfd p{fd, POLLIN, 0};
  const int r = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (r == 0) return ReadResult::kTimeout;
  if (r < 0) return ReadResult::kError;
  char buf[65536];
  const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  if (n > 0) {
    if (out != nullptr) out->append(buf, static_cast<size_t>(n));
    return ReadResult::kData;
  }
  if (n == 0) return ReadResult::kEof;
  if (errno == ECONNRESET) return ReadResult::kReset;
  if (errno == EAGAIN) return ReadResult::kTimeout;
  return ReadResult::kError;
}

// Reads until `size` bytes arrived, the stream ends or `timeout` passes.
std::string ReadExactly(int fd, size_t size, absl::Duration timeout) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  while (out.size() < size && absl::Now() < deadline) {
    const ReadResult r =
        ReadSome(fd, std::min(absl::Milliseconds(100), deadline - absl::Now()), &out);
    if (r != ReadResult::kData && r != ReadResult::kTimeout) break;
  }
  return out;
}

// Waits (bounded) for the end of the stream; returns how it ended, or kTimeout.
ReadResult WaitForEnd(int fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    const ReadResult r = ReadSome(fd, std::min(absl::Milliseconds(100), deadline - absl::Now()));
    if (r != ReadResult::kData && r != ReadResult::kTimeout) return r;
  }
  return ReadResult::kTimeout;
}

std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// A loopback server with a thread per connection: echoes, swallows (counting) or sends a
// fixed amount on connect. Stops and joins everything on destruction.
class TestServer {
 public:
  enum class Kind { kEcho, kSink, kSource };

  explicit TestServer(Kind kind, size_t source_bytes = 0)
      : kind_(kind), source_bytes_(source_bytes) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof(addr);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        listen(listen_fd_, 64) == 0 &&
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~TestServer() {
    stop_.store(true);
    acceptor_.join();
    for (std::thread& t : workers_) t.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  int64_t received() const { return received_.load(); }
  int accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop() {
    while (!stop_.load()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted_;
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    if (kind_ == Kind::kSource) SendAll(fd, Pattern(source_bytes_));
    char buf[65536];
    while (!stop_.load()) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      received_ += n;
      if (kind_ == Kind::kEcho && !SendAll(fd, std::string(buf, static_cast<size_t>(n)))) break;
    }
    close(fd);
  }

  const Kind kind_;
  const size_t source_bytes_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> received_{0};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the acceptor thread only, until joined
};

std::unique_ptr<FaultProxy> StartProxy(int target_port, FaultProxyOptions options = {}) {
  options.target_port = target_port;
  absl::StatusOr<std::unique_ptr<FaultProxy>> proxy = FaultProxy::Start(options);
  EXPECT_THAT(proxy, IsOk());
  return proxy.ok() ? *std::move(proxy) : nullptr;
}

// Sends `message` and expects it back within `timeout`.
bool Echoes(int fd, const std::string& message, absl::Duration timeout = absl::Seconds(5)) {
  return SendAll(fd, message) && ReadExactly(fd, message.size(), timeout) == message;
}

// A free port nobody listens on (bound, read, closed).
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// The proxy counts bytes right after passing them on, so a test that has just read them may
// be a moment ahead of the counters.
FaultProxyStats StatsOnceForwarded(const FaultProxy& proxy, int64_t upstream, int64_t downstream) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  FaultProxyStats stats = proxy.stats();
  while ((stats.bytes_upstream < upstream || stats.bytes_downstream < downstream) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
    stats = proxy.stats();
  }
  return stats;
}

TEST(FaultProxyTest, PassForwardsBothWays) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port());
  ASSERT_NE(proxy, nullptr);
  EXPECT_EQ(proxy->address(), absl::StrCat("127.0.0.1:", proxy->port()));
  EXPECT_EQ(proxy->target_port(), echo.port());
  Fd client(ConnectTo(proxy->port()));
  ASSERT_GE(client.get(), 0);

  const std::string data = Pattern(1 << 20);
  std::thread writer([&] { SendAll(client.get(), data); });
  const std::string back = ReadExactly(client.get(), data.size(), absl::Seconds(20));
  writer.join();
  EXPECT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data);

  const int64_t size = static_cast<int64_t>(data.size());
  const FaultProxyStats stats = StatsOnceForwarded(*proxy, size, size);
  EXPECT_EQ(stats.accepted, 1);
  EXPECT_EQ(stats.open, 1);
  EXPECT_EQ(stats.bytes_upstream, static_cast<int64_t>(data.size()));
  EXPECT_EQ(stats.bytes_downstream, static_cast<int64_t>(data.size()));
  EXPECT_EQ(stats.dropped_upstream + stats.dropped_downstream + stats.resets, 0);
}

TEST(FaultProxyTest, EofIsPassedOnAndTheConnectionCloses) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port());
  ASSERT_NE(proxy, nullptr);
  Fd client(ConnectTo(proxy->port()));
  ASSERT_TRUE(Echoes(client.get(), "before FIN"));
  shutdown(client.get(), SHUT_WR);
  // The echo server sees EOF, closes, and that FIN comes back.
  EXPECT_EQ(WaitForEnd(client.get(), absl::Seconds(5)), ReadResult::kEof);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (proxy->stats().open != 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(proxy->stats().open, 0);
  EXPECT_EQ(proxy->stats().resets, 0);
}

TEST(FaultProxyTest, DelayAddsLatencyWithoutCappingThroughput) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port());
  ASSERT_NE(proxy, nullptr);
  Fd client(ConnectTo(proxy->port()));
  ASSERT_TRUE(Echoes(client.get(), "warm-up"));

  constexpr absl::Duration kDelay = absl::Milliseconds(300);
  proxy->SetDelay(Direction::kUpstream, kDelay);
  absl::Time t0 = absl::Now();
  ASSERT_TRUE(Echoes(client.get(), "ping"));
  EXPECT_GE(absl::Now() - t0, kDelay);

  proxy->SetDelay(kDelay);  // both directions: the round trip takes both delays
  t0 = absl::Now();
  ASSERT_TRUE(Echoes(client.get(), "ping both ways"));
  EXPECT_GE(absl::Now() - t0, 2 * kDelay);

  // 40 separate chunks 20 ms apart: forwarding one chunk per delay would take 40 * 600 ms
  // = 24 s; with chunks queued by due time it takes about 40 * 20 ms + 600 ms.
  constexpr int kChunks = 40;
  const std::string chunk = Pattern(16 * 1024);
  t0 = absl::Now();
  std::thread writer([&] {
    for (int i = 0; i < kChunks; ++i) {
      SendAll(client.get(), chunk);
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  const std::string back = ReadExactly(client.get(), kChunks * chunk.size(), absl::Seconds(30));
  const absl::Duration took = absl::Now() - t0;
  writer.join();
  EXPECT_EQ(back.size(), kChunks * chunk.size());
  EXPECT_GE(took, 2 * kDelay);
  EXPECT_LT(took, absl::Seconds(8)) << "the delay seems to be applied chunk after chunk";

  proxy->SetDelay(absl::ZeroDuration());
  EXPECT_TRUE(Echoes(client.get(), "no delay any more"));
}

TEST(FaultProxyTest, ThrottleLimitsRate) {
  constexpr size_t kBytes = 192 * 1024;
  constexpr int64_t kRate = 64 * 1024;  // so at least ~3 s minus a 50 ms burst
  TestServer source(TestServer::Kind::kSource, kBytes);
  auto proxy = StartProxy(source.port());
  ASSERT_NE(proxy, nullptr);
  proxy->SetThrottle(Direction::kDownstream, kRate);
  const absl::Time t0 = absl::Now();
  Fd client(ConnectTo(proxy->port()));
  ASSERT_GE(client.get(), 0);
  const std::string got = ReadExactly(client.get(), kBytes, absl::Seconds(30));
  const absl::Duration took = absl::Now() - t0;
  EXPECT_EQ(got.size(), kBytes);
  EXPECT_TRUE(got == Pattern(kBytes));
  EXPECT_GE(took, absl::Seconds(2)) << "throttle not applied";
  EXPECT_EQ(StatsOnceForwarded(*proxy, 0, kBytes).bytes_downstream, static_cast<int64_t>(kBytes));
}

TEST(FaultProxyTest, BlackHoleDropKeepsConnectionsOpenAndForwardsNothing) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port());
  ASSERT_NE(proxy, nullptr);
  Fd old_conn(ConnectTo(proxy->port()));
  ASSERT_TRUE(Echoes(old_conn.get(), "hello"));

  proxy->SetBlackHole(BlackHole::kDrop);
  ASSERT_TRUE(SendAll(old_conn.get(), "into the void"));
  EXPECT_EQ(ReadSome(old_conn.get(), absl::Milliseconds(300)), ReadResult::kTimeout);
  // Still open: more writes succeed, nothing comes back, no EOF.
  ASSERT_TRUE(SendAll(old_conn.get(), std::string(100000, 'x')));
  EXPECT_EQ(ReadSome(old_conn.get(), absl::Milliseconds(300)), ReadResult::kTimeout);

  // New connections: TCP is up, nothing is forwarded.
  Fd new_conn(ConnectTo(proxy->port()));
  ASSERT_GE(new_conn.get(), 0);
  ASSERT_TRUE(SendAll(new_conn.get(), "anyone?"));
  EXPECT_EQ(ReadSome(new_conn.get(), absl::Milliseconds(300)), ReadResult::kTimeout);
  FaultProxyStats stats = proxy->stats();
  EXPECT_EQ(stats.accepted, 2);
  EXPECT_EQ(stats.open, 2);
  EXPECT_GE(stats.dropped_upstream, 100000 + 13 + 7);
  const int64_t upstream_before = stats.bytes_upstream;
  EXPECT_EQ(upstream_before, 5);
  EXPECT_EQ(echo.received(), 5);

  // Bytes were lost from both streams, so they are reset once forwarding resumes.
  proxy->Pass();
  EXPECT_EQ(WaitForEnd(old_conn.get(), absl::Seconds(5)), ReadResult::kReset);
  EXPECT_EQ(WaitForEnd(new_conn.get(), absl::Seconds(5)), ReadResult::kReset);
  EXPECT_EQ(proxy->stats().bytes_upstream, upstream_before);
  Fd after(ConnectTo(proxy->port()));
  EXPECT_TRUE(Echoes(after.get(), "back to normal"));
}

TEST(FaultProxyTest, BlackHoleDropOfAnIdleConnectionResumesIt) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port());
  ASSERT_NE(proxy, nullptr);
  Fd conn(ConnectTo(proxy->port()));
  ASSERT_TRUE(Echoes(conn.get(), "hello"));
  proxy->SetBlackHole(BlackHole::kDrop);
  absl::SleepFor(absl::Milliseconds(100));
  proxy->SetBlackHole(BlackHole::kOff);
  // Nothing was lost, so nothing needs resetting.
  EXPECT_TRUE(Echoes(conn.get(), "still here"));
  EXPECT_EQ(proxy->stats().resets, 0);
}

TEST(FaultProxyTest, BlackHoleStallPushesBackAndResumesOnTheSameConnection) {
  TestServer sink(TestServer::Kind::kSink);
  auto proxy = StartProxy(sink.port());
  ASSERT_NE(proxy, nullptr);
  Fd conn(ConnectTo(proxy->port()));
  ASSERT_GE(conn.get(), 0);
  ASSERT_TRUE(SendAll(conn.get(), "first"));
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (sink.received() < 5 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(sink.received(), 5);

  proxy->SetBlackHole(Direction::kUpstream, BlackHole::kStall);
  // Nonblocking writes until the kernel buffers on both sides of the proxy are full.
  ASSERT_EQ(fcntl(conn.get(), F_SETFL, fcntl(conn.get(), F_GETFL) | O_NONBLOCK), 0);
  const std::string chunk(64 * 1024, 's');
  int64_t written = 0;
  bool blocked = false;
  deadline = absl::Now() + absl::Seconds(20);
  while (!blocked && written < (int64_t{1} << 30) && absl::Now() < deadline) {
    const ssize_t n = send(conn.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n > 0) {
      written += n;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Loopback buffers can still be growing (autotuning): make sure it stays blocked.
      pollfd p{conn.get(), POLLOUT, 0};
      blocked = poll(&p, 1, 500) == 0;
    } else {
      FAIL() << "send: " << std::strerror(errno);
    }
  }
  EXPECT_TRUE(blocked) << "writes never blocked after " << written << " bytes";
  EXPECT_EQ(sink.received(), 5) << "bytes leaked through the stalled direction";
  EXPECT_EQ(proxy->stats().dropped_upstream, 0);

  proxy->SetBlackHole(Direction::kUpstream, BlackHole::kOff);
  deadline = absl::Now() + absl::Seconds(30);
  while (sink.received() < 5 + written && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(sink.received(), 5 + written);
  EXPECT_EQ(proxy->stats().resets, 0);
}

TEST(FaultProxyTest, StalledEchoAnswersOnceResumed) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port());
  ASSERT_NE(proxy, nullptr);
  Fd conn(ConnectTo(proxy->port()));
  ASSERT_TRUE(Echoes(conn.get(), "hello"));
  proxy->SetBlackHole(Direction::kDownstream, BlackHole::kStall);
  ASSERT_TRUE(SendAll(conn.get(), "held"));
  EXPECT_EQ(ReadSome(conn.get(), absl::Milliseconds(300)), ReadResult::kTimeout);
  proxy->SetBlackHole(BlackHole::kOff);
  EXPECT_EQ(ReadExactly(conn.get(), 4, absl::Seconds(5)), "held");
  EXPECT_TRUE(Echoes(conn.get(), "and more"));
}

TEST(FaultProxyTest, ResetGivesConnectionResetAndCanRefuseNewConnections) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port());
  ASSERT_NE(proxy, nullptr);
  Fd conn(ConnectTo(proxy->port()));
  ASSERT_TRUE(Echoes(conn.get(), "hello"));
  proxy->Reset();
  EXPECT_EQ(WaitForEnd(conn.get(), absl::Seconds(5)), ReadResult::kReset);
  EXPECT_EQ(proxy->stats().resets, 1);

  // Without refuse_new, the next connection works.
  Fd next(ConnectTo(proxy->port()));
  EXPECT_TRUE(Echoes(next.get(), "new one"));

  proxy->Reset(/*refuse_new=*/true);
  EXPECT_EQ(WaitForEnd(next.get(), absl::Seconds(5)), ReadResult::kReset);
  Fd refused(ConnectTo(proxy->port()));  // the handshake is the kernel's; then RST
  ASSERT_GE(refused.get(), 0);
  EXPECT_EQ(WaitForEnd(refused.get(), absl::Seconds(5)), ReadResult::kReset);
  EXPECT_GE(proxy->stats().refused, 1);

  proxy->SetRefuseNew(false);
  Fd again(ConnectTo(proxy->port()));
  EXPECT_TRUE(Echoes(again.get(), "accepted again"));
}

TEST(FaultProxyTest, UnreachableTargetResetsTheClientUnlessBlackHoled) {
  auto proxy = StartProxy(UnusedPort());
  ASSERT_NE(proxy, nullptr);
  Fd conn(ConnectTo(proxy->port()));
  ASSERT_GE(conn.get(), 0);
  EXPECT_EQ(WaitForEnd(conn.get(), absl::Seconds(5)), ReadResult::kReset);

  proxy->SetBlackHole(BlackHole::kDrop);
  Fd held(ConnectTo(proxy->port()));
  ASSERT_GE(held.get(), 0);
  EXPECT_EQ(ReadSome(held.get(), absl::Milliseconds(500)), ReadResult::kTimeout);
  proxy->Pass();
  EXPECT_EQ(WaitForEnd(held.get(), absl::Seconds(5)), ReadResult::kReset);
}

TEST(FaultProxyTest, GivenListenPortIsUsed) {
  TestServer echo(TestServer::Kind::kEcho);
  const int port = UnusedPort();
  absl::StatusOr<std::unique_ptr<FaultProxy>> proxy =
      FaultProxy::Start({.listen_port = port, .target_port = echo.port()});
  ASSERT_THAT(proxy, IsOk());
  EXPECT_EQ((*proxy)->port(), port);
  Fd conn(ConnectTo(port));
  EXPECT_TRUE(Echoes(conn.get(), "on the given port"));
  EXPECT_THAT(FaultProxy::Start({.target_port = 0}), StatusIs(absl::StatusCode::kInvalidArgument));
}

constexpr char kProbe[] = "GET /raft/probing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

std::string Post(const std::string& sender, const std::string& body) {
  return absl::StrCat("POST /raft HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Server-From: ", sender,
                      "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
}

TEST(FaultProxyTest, SenderRulesApplyToTaggedConnections) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port(), {.sender_header = "X-Server-From"});
  ASSERT_NE(proxy, nullptr);

  // A keep-alive connection: first a request without the header (etcd's prober), then
  // requests naming their sender.
  Fd a(ConnectTo(proxy->port()));
  ASSERT_TRUE(Echoes(a.get(), kProbe));
  proxy->SetSenderRule("a1", SenderRule::kBlackHoleDrop);
  ASSERT_TRUE(SendAll(a.get(), Post("a1", "raft message")));
  EXPECT_EQ(ReadSome(a.get(), absl::Milliseconds(300)), ReadResult::kTimeout);
  EXPECT_EQ(echo.received(), static_cast<int64_t>(sizeof(kProbe) - 1));

  // Another sender, and a connection without the header, pass.
  Fd b(ConnectTo(proxy->port()));
  const std::string stream_get =
      "GET /raft/stream/msgappv2/a1 HTTP/1.1\r\nHost: x\r\nx-server-from:  b2 \r\n\r\n";
  EXPECT_TRUE(Echoes(b.get(), stream_get));
  Fd untagged(ConnectTo(proxy->port()));
  EXPECT_TRUE(Echoes(untagged.get(), "GET /version HTTP/1.1\r\nHost: x\r\n\r\n"));

  // A head split over two writes is held until complete: no byte of it leaks.
  Fd split(ConnectTo(proxy->port()));
  const std::string post = Post("a1", "xyz");
  ASSERT_TRUE(SendAll(split.get(), post.substr(0, 20)));
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(SendAll(split.get(), post.substr(20)));
  EXPECT_EQ(ReadSome(split.get(), absl::Milliseconds(300)), ReadResult::kTimeout);

  FaultProxyStats stats = proxy->stats();
  EXPECT_EQ(stats.tagged["a1"], 2);
  EXPECT_EQ(stats.tagged["b2"], 1);
  EXPECT_EQ(stats.tagged.size(), 2u);

  // kReset resets the sender's connections.
  proxy->SetSenderRule("b2", SenderRule::kReset);
  EXPECT_EQ(WaitForEnd(b.get(), absl::Seconds(5)), ReadResult::kReset);
  EXPECT_TRUE(Echoes(untagged.get(), "GET /still HTTP/1.1\r\n\r\n"));

  // Back to pass: a1's connections lost bytes, so they are reset rather than resumed.
  proxy->ClearSenderRules();
  EXPECT_EQ(WaitForEnd(a.get(), absl::Seconds(5)), ReadResult::kReset);
  EXPECT_EQ(WaitForEnd(split.get(), absl::Seconds(5)), ReadResult::kReset);
  Fd fresh(ConnectTo(proxy->port()));
  EXPECT_TRUE(Echoes(fresh.get(), Post("a1", "after heal")));
}

TEST(FaultProxyTest, StalledSenderResumesWithItsBodies) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(echo.port(), {.sender_header = "X-Server-From"});
  ASSERT_NE(proxy, nullptr);
  proxy->SetSenderRule("c3", SenderRule::kBlackHoleStall);
  Fd c(ConnectTo(proxy->port()));
  // Two requests with bodies that contain head-like text: only Content-Length tells them apart.
  const std::string two = Post("c3", "GET / HTTP/1.1\r\n\r\n") + Post("c3", "second");
  ASSERT_TRUE(SendAll(c.get(), two));
  EXPECT_EQ(ReadSome(c.get(), absl::Milliseconds(300)), ReadResult::kTimeout);
  proxy->SetSenderRule("c3", SenderRule::kPass);
  EXPECT_EQ(ReadExactly(c.get(), two.size(), absl::Seconds(5)), two);
  EXPECT_EQ(proxy->stats().tagged["c3"], 1);
}

TEST(FaultProxyTest, ClassificationGivesUpOnNonHttpAndIncompleteHeads) {
  TestServer echo(TestServer::Kind::kEcho);
  auto proxy = StartProxy(
      echo.port(), {.sender_header = "X-Server-From", .head_timeout = absl::Milliseconds(200)});
  ASSERT_NE(proxy, nullptr);
  proxy->SetSenderRule("a1", SenderRule::kBlackHoleDrop);
  // Binary data passes at once (not after head_timeout: it is not HTTP/1.x).
  Fd binary(ConnectTo(proxy->port()));
  EXPECT_TRUE(Echoes(binary.get(), std::string("\x16\x03\x01\x00\x05hello", 10)));
  Fd h2(ConnectTo(proxy->port()));
  EXPECT_TRUE(Echoes(h2.get(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  // An incomplete head is released after head_timeout, untagged.
  Fd partial(ConnectTo(proxy->port()));
  EXPECT_TRUE(Echoes(partial.get(), "GET / HTTP/1.1\r\nX-Server-Fr"));
  EXPECT_EQ(proxy->stats().tagged.size(), 0u);
}

TEST(FaultProxyTest, DestructorIsPromptInEveryMode) {
  TestServer echo(TestServer::Kind::kEcho);
  TestServer sink(TestServer::Kind::kSink);
  struct Mode {
    std::string name;
    void (*apply)(FaultProxy&);
  };
  const std::vector<Mode> modes = {
      {"pass", [](FaultProxy&) {}},
      {"delay", [](FaultProxy& p) { p.SetDelay(absl::Seconds(30)); }},
      {"throttle", [](FaultProxy& p) { p.SetThrottle(1); }},
      {"drop", [](FaultProxy& p) { p.SetBlackHole(BlackHole::kDrop); }},
      {"stall", [](FaultProxy& p) { p.SetBlackHole(BlackHole::kStall); }},
      {"refuse", [](FaultProxy& p) { p.Reset(true); }},
      {"sender stall", [](FaultProxy& p) { p.SetSenderRule("z", SenderRule::kBlackHoleStall); }},
  };
  for (const Mode& mode : modes) {
    for (int target : {echo.port(), sink.port()}) {
      SCOPED_TRACE(mode.name);
      auto proxy = StartProxy(target, {.sender_header = "X-Server-From"});
      ASSERT_NE(proxy, nullptr);
      std::vector<std::unique_ptr<Fd>> conns;
      for (int i = 0; i < 3; ++i) {
        conns.push_back(std::make_unique<Fd>(ConnectTo(proxy->port())));
        SendAll(conns.back()->get(), Post("z", "x"));
      }
      mode.apply(*proxy);
      for (auto& c : conns) {
        // Data in flight in both directions, without reading the answers.
        fcntl(c->get(), F_SETFL, fcntl(c->get(), F_GETFL) | O_NONBLOCK);
        send(c->get(), Pattern(200000).data(), 200000, MSG_NOSIGNAL);
      }
      conns.push_back(std::make_unique<Fd>(ConnectTo(proxy->port())));
      absl::SleepFor(absl::Milliseconds(50));
      const absl::Time t0 = absl::Now();
      proxy.reset();
      EXPECT_LT(absl::Now() - t0, absl::Seconds(1));
    }
  }
}

}  // namespace
}  // namespace etcdgrpc::testing
