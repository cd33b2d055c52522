// FaultProxy: one poll() thread owning every socket; settings are copied into the thread at
// the top of each round, so forwarding always happens under one consistent setting.
#include "fault_proxy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <deque>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace etcdgrpc::testing {
namespace {

constexpr int kUp = 0;    // pipe client -> server; also the index of the client side
constexpr int kDown = 1;  // pipe server -> client; also the index of the server side
constexpr int kClient = 0;
constexpr int kServer = 1;
constexpr size_t kReadChunk = 64 * 1024;
// Per connection and poll round, so one busy connection cannot starve the others.
constexpr size_t kReadBudget = 256 * 1024;
constexpr int kAcceptsPerRound = 64;
// Upper bound of one poll(), as a safety net; every real wake-up is computed.
constexpr absl::Duration kMaxWait = absl::Seconds(1);
// A setter waits this long at most for the proxy thread to apply it.
constexpr absl::Duration kApplyTimeout = absl::Seconds(5);
// Throttle bucket: at most this much of a second's worth of bytes at once.
constexpr double kBurstSeconds = 0.05;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

int Index(Direction direction) { return direction == Direction::kUpstream ? kUp : kDown; }

void ResetAndClose(int fd) {
  // SO_LINGER with a zero time-out makes close() send RST instead of FIN.
  linger lin{};
  lin.l_onoff = 1;
  lin.l_linger = 0;
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
  close(fd);
}

void SetNoDelay(int fd) {
  // Without it Nagle's algorithm and delayed ACKs add tens of ms to small writes.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

enum class Flow { kPass, kDrop, kStall };

struct ParsedHead {
  bool http = false;
  std::optional<std::string> sender;
  uint64_t content_length = 0;
  bool chunked = false;
};

// `head` is one request head without its final blank line.
ParsedHead ParseHead(absl::string_view head, absl::string_view sender_header) {
  ParsedHead parsed;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    if (first) {
      first = false;
      parsed.http = absl::StrContains(line, " HTTP/1.");
      if (!parsed.http) return parsed;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    const absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, sender_header) && !value.empty()) {
      parsed.sender = std::string(value);
    } else if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      uint64_t n = 0;
      if (absl::SimpleAtoi(value, &n)) parsed.content_length = n;
    } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      parsed.chunked = !absl::EqualsIgnoreCase(value, "identity");
    }
  }
  return parsed;
}

}  // namespace

class FaultProxy::Impl {
 public:
  struct Config {
    struct PerDirection {
      BlackHole black_hole = BlackHole::kOff;
      absl::Duration delay = absl::ZeroDuration();
      int64_t throttle = 0;
    };
    PerDirection dir[2];
    bool refuse = false;
    uint64_t reset_epoch = 0;
    std::map<std::string, SenderRule> senders;
  };

  Impl(FaultProxyOptions options, int listen_fd, int wake_fd, int port)
      : options_(std::move(options)), port_(port), listen_fd_(listen_fd), wake_fd_(wake_fd) {}

  ~Impl() {
    {
      internal::MutexLock lock(&mu_);
      stop_ = true;
      applied_cv_.Notify();
    }
    Wake();
    if (thread_.joinable()) thread_.join();
    close(listen_fd_);
    close(wake_fd_);
  }

  void StartThread() {
    thread_ = std::thread([this] { Run(); });
  }

  // Changes the setting and waits until the proxy thread works with it.
  template <class Change>
  void Update(Change change) {
    uint64_t generation;
    {
      internal::MutexLock lock(&mu_);
      change(config_);
      generation = ++generation_;
    }
    Wake();
    internal::MutexLock lock(&mu_);
    applied_cv_.WaitUntil(mu_, internal::MonoNow() + kApplyTimeout,
                          [this, generation]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                            return applied_ >= generation || stop_;
                          });
  }

  FaultProxyStats Stats() const {
    FaultProxyStats stats;
    stats.accepted = accepted_.load();
    stats.refused = refused_.load();
    stats.open = open_.load();
    stats.resets = resets_.load();
    stats.bytes_upstream = bytes_[kUp].load();
    stats.bytes_downstream = bytes_[kDown].load();
    stats.dropped_upstream = dropped_[kUp].load();
    stats.dropped_downstream = dropped_[kDown].load();
    internal::MutexLock lock(&mu_);
    stats.tagged = tagged_;
    return stats;
  }

  const FaultProxyOptions options_;
  const int port_;

 private:
  struct Chunk {
    std::string data;
    size_t offset = 0;
    absl::Time due;
  };

  struct Pipe {
    std::deque<Chunk> queue;
    size_t queued = 0;
    bool src_eof = false;  // the source sent FIN
    bool shut = false;     // that FIN was passed on
    bool lost = false;     // bytes were discarded: the stream cannot go on
    bool blocked = false;  // the last write returned EAGAIN
    int64_t rate = 0;      // throttle the bucket was filled for
    double tokens = 0;
    absl::Time refilled = absl::InfinitePast();
  };

  enum class Classify { kHead, kBody, kDone };

  struct Conn {
    int fd[2] = {-1, -1};
    bool connecting = false;
    // The side failed (RST, error, refused connect); its fd is closed.
    bool dead[2] = {false, false};
    // POLLHUP seen: left out of poll() while nothing is wanted from it (it would spin).
    bool hup[2] = {false, false};
    bool closed = false;
    Pipe pipe[2];
    std::optional<std::string> tag;
    Classify classify = Classify::kDone;
    std::string head;  // upstream bytes held until the request head is complete
    uint64_t body_left = 0;
    absl::Time head_since = absl::InfiniteFuture();
  };

  void Wake() {
    const uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof(one)) < 0) {
      // EAGAIN: the counter is already non-zero, so the thread wakes anyway.
    }
  }

  // Copies a changed setting into the thread; false once stopping.
  bool ApplyConfig() {
    internal::MutexLock lock(&mu_);
    if (stop_) return false;
    if (applied_ != generation_) {
      cfg_ = config_;
      // Before anything is accepted under the new setting, so new connections survive it.
      if (cfg_.reset_epoch != reset_epoch_seen_) {
        reset_epoch_seen_ = cfg_.reset_epoch;
        for (auto& c : conns_) ResetConn(*c);
      }
      applied_ = generation_;
      applied_cv_.Notify();
    }
    return true;
  }

  void Run() {
    std::vector<pollfd> fds;
    std::vector<std::pair<Conn*, int>> owners;
    while (ApplyConfig()) {
      absl::Time now = absl::Now();
      absl::Time wake = now + kMaxWait;
      for (auto& c : conns_) Service(*c, now, wake);
      std::erase_if(conns_, [](const std::unique_ptr<Conn>& c) { return c->closed; });
      open_.store(static_cast<int64_t>(conns_.size()));

      fds.clear();
      owners.clear();
      fds.push_back({wake_fd_, POLLIN, 0});
      fds.push_back({listen_fd_, POLLIN, 0});
      for (auto& c : conns_) AddPollFds(*c, fds, owners);
      const int64_t wait_ms = std::clamp<int64_t>(
          absl::ToInt64Milliseconds(wake - absl::Now() + absl::Microseconds(999)), 0,
          absl::ToInt64Milliseconds(kMaxWait));
      const int ready = poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
      if (!ApplyConfig()) break;
      if (ready <= 0) continue;
      now = absl::Now();
      if (fds[0].revents != 0) {
        uint64_t count;
        if (read(wake_fd_, &count, sizeof(count)) < 0) {
          // EAGAIN: someone else drained it; nothing to do.
        }
      }
      if (fds[1].revents & POLLIN) AcceptAll();
      for (size_t i = 0; i < owners.size(); ++i) {
        if (fds[i + 2].revents != 0)
          HandleEvents(*owners[i].first, owners[i].second, fds[i + 2].revents, now);
      }
    }
    for (auto& c : conns_) {
      for (int& fd : c->fd) {
        if (fd >= 0) close(fd);
        fd = -1;
      }
    }
    conns_.clear();
    open_.store(0);
  }

  std::optional<SenderRule> TagRule(const Conn& c) const {
    if (!c.tag) return std::nullopt;
    auto it = cfg_.senders.find(*c.tag);
    if (it == cfg_.senders.end()) return std::nullopt;
    return it->second;
  }

  Flow FlowOf(const Conn& c, int d) const {
    switch (cfg_.dir[d].black_hole) {
      case BlackHole::kDrop:
        return Flow::kDrop;
      case BlackHole::kStall:
        return Flow::kStall;
      case BlackHole::kOff:
        break;
    }
    switch (TagRule(c).value_or(SenderRule::kPass)) {
      case SenderRule::kBlackHoleDrop:
        return Flow::kDrop;
      case SenderRule::kBlackHoleStall:
      case SenderRule::kReset:  // about to be reset: read nothing more
        return Flow::kStall;
      case SenderRule::kPass:
        break;
    }
    return Flow::kPass;
  }

  size_t Room(const Conn& c, int d) const {
    size_t held = c.pipe[d].queued + (d == kUp ? c.head.size() : 0);
    return held >= options_.max_queued_bytes ? 0 : options_.max_queued_bytes - held;
  }

  void ResetConn(Conn& c) {
    if (c.closed) return;
    // Counted first: a test that has seen the RST must also see the count.
    ++resets_;
    for (int& fd : c.fd) {
      if (fd >= 0) ResetAndClose(fd);
      fd = -1;
    }
    c.closed = true;
  }

  void CloseConn(Conn& c) {
    for (int& fd : c.fd) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    c.closed = true;
  }

  void MarkDead(Conn& c, int side) {
    if (c.fd[side] >= 0) close(c.fd[side]);
    c.fd[side] = -1;
    c.dead[side] = true;
    if (side == kServer) c.connecting = false;
  }

  void Enqueue(Pipe& p, std::string data, absl::Time due) {
    if (data.empty()) return;
    p.queued += data.size();
    p.queue.push_back(Chunk{std::move(data), 0, due});
  }

  void Discard(Conn& c, int d) {
    Pipe& p = c.pipe[d];
    size_t n = p.queued;
    p.queue.clear();
    p.queued = 0;
    if (d == kUp && !c.head.empty()) {
      n += c.head.size();
      c.head.clear();
      c.classify = Classify::kDone;  // the request stream is broken; stop reading it
    }
    if (n > 0) {
      p.lost = true;
      dropped_[d] += static_cast<int64_t>(n);
    }
  }

  // Moves held upstream bytes into the queue as far as whole request heads (and the bodies
  // their Content-Length announces) allow, tagging the connection when a head names its
  // sender. Everything is released once classification gives up.
  void ReleaseHeads(Conn& c, absl::Time now) {
    Pipe& p = c.pipe[kUp];
    const absl::Time due = now + cfg_.dir[kUp].delay;
    while (!c.head.empty()) {
      switch (c.classify) {
        case Classify::kDone:
          Enqueue(p, std::move(c.head), due);
          c.head.clear();
          return;
        case Classify::kBody: {
          const size_t take = static_cast<size_t>(std::min<uint64_t>(c.body_left, c.head.size()));
          Enqueue(p, c.head.substr(0, take), due);
          c.head.erase(0, take);
          c.body_left -= take;
          if (c.body_left == 0) c.classify = Classify::kHead;
          c.head_since = now;
          break;
        }
        case Classify::kHead: {
          // Not HTTP/1.x (TLS, HTTP/2, binary): pass it on now instead of after head_timeout.
          const size_t line_end = c.head.find("\r\n");
          if (!absl::ascii_isupper(static_cast<unsigned char>(c.head[0])) ||
              (line_end != std::string::npos &&
               !absl::StrContains(absl::string_view(c.head).substr(0, line_end), " HTTP/1."))) {
            c.classify = Classify::kDone;
            break;
          }
          const size_t end = c.head.find("\r\n\r\n");
          if (end == std::string::npos || end + 4 > options_.max_head_bytes) {
            if (c.head.size() > options_.max_head_bytes) {
              c.classify = Classify::kDone;
              break;
            }
            return;  // wait for the rest of the head (bounded by head_timeout)
          }
          const ParsedHead parsed =
              ParseHead(absl::string_view(c.head).substr(0, end), options_.sender_header);
          if (parsed.http && parsed.sender) {
            c.tag = parsed.sender;
            c.classify = Classify::kDone;
            internal::MutexLock lock(&mu_);
            ++tagged_[*parsed.sender];
          } else if (!parsed.http || parsed.chunked) {
            c.classify = Classify::kDone;  // cannot find the next head: stay untagged
          } else if (parsed.content_length > 0) {
            c.classify = Classify::kBody;
            c.body_left = parsed.content_length;
          }
          Enqueue(p, c.head.substr(0, end + 4), due);
          c.head.erase(0, end + 4);
          c.head_since = now;
          break;
        }
      }
    }
  }

  void Deliver(Conn& c, int d, const char* data, size_t n, absl::Time now) {
    if (d == kUp && c.classify != Classify::kDone) {
      if (c.head.empty()) c.head_since = now;
      c.head.append(data, n);
      ReleaseHeads(c, now);
      return;
    }
    Enqueue(c.pipe[d], std::string(data, n), now + cfg_.dir[d].delay);
  }

  void Read(Conn& c, int side, absl::Time now) {
    const int d = side;  // the pipe this side feeds
    Pipe& p = c.pipe[d];
    if (p.src_eof) return;
    const Flow flow = FlowOf(c, d);
    if (flow == Flow::kStall) return;
    size_t budget = kReadBudget;
    while (budget > 0 && c.fd[side] >= 0) {
      size_t len = std::min(budget, kReadChunk);
      if (flow == Flow::kPass) {
        if (c.dead[1 - side]) return;  // hold: nowhere to deliver
        len = std::min(len, Room(c, d));
        if (len == 0) return;
      }
      const ssize_t n = recv(c.fd[side], buffer_, len, 0);
      if (n > 0) {
        budget -= static_cast<size_t>(n);
        if (flow == Flow::kDrop) {
          dropped_[d] += n;
          p.lost = true;
        } else {
          Deliver(c, d, buffer_, static_cast<size_t>(n), now);
        }
      } else if (n == 0) {
        p.src_eof = true;
        return;
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      } else {
        MarkDead(c, side);
        return;
      }
    }
  }

  void HandleEvents(Conn& c, int side, short revents, absl::Time now) {
    if (c.closed || c.fd[side] < 0) return;
    if (side == kServer && c.connecting) {
      if (revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c.fd[side], SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0 || (revents & (POLLERR | POLLNVAL))) {
          MarkDead(c, side);
        } else {
          c.connecting = false;
        }
      }
      return;
    }
    if (revents & (POLLERR | POLLNVAL)) {
      MarkDead(c, side);
      return;
    }
    if (revents & POLLHUP) c.hup[side] = true;
    if (revents & POLLOUT) c.pipe[1 - side].blocked = false;
    if (revents & (POLLIN | POLLHUP)) Read(c, side, now);
  }

  void Write(Conn& c, int d, absl::Time now, absl::Time& wake) {
    Pipe& p = c.pipe[d];
    const int dst = 1 - d;
    const int64_t rate = cfg_.dir[d].throttle;
    const double burst = std::max(1.0, static_cast<double>(rate) * kBurstSeconds);
    if (rate != p.rate) {
      // A new limit starts with an empty bucket, so it holds from the moment it is set.
      p.rate = rate;
      p.tokens = 0;
      p.refilled = now;
    } else if (rate > 0) {
      p.tokens = std::min(
          burst, p.tokens + static_cast<double>(rate) * absl::ToDoubleSeconds(now - p.refilled));
      p.refilled = now;
    }
    while (!p.queue.empty()) {
      Chunk& chunk = p.queue.front();
      if (chunk.due > now) {
        wake = std::min(wake, chunk.due);
        return;
      }
      size_t len = chunk.data.size() - chunk.offset;
      if (rate > 0) {
        const size_t allowed = static_cast<size_t>(p.tokens);
        if (allowed == 0) {
          const double want = std::min(burst, static_cast<double>(p.queued));
          wake = std::min(wake, now + absl::Seconds((want - p.tokens) / static_cast<double>(rate)));
          return;
        }
        len = std::min(len, allowed);
      }
      const ssize_t n = send(c.fd[dst], chunk.data.data() + chunk.offset, len, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          p.blocked = true;
        } else {
          MarkDead(c, dst);
        }
        return;
      }
      p.blocked = false;
      bytes_[d] += n;
      p.queued -= static_cast<size_t>(n);
      p.tokens -= static_cast<double>(n);
      chunk.offset += static_cast<size_t>(n);
      if (chunk.offset == chunk.data.size()) p.queue.pop_front();
    }
  }

  void Service(Conn& c, absl::Time now, absl::Time& wake) {
    if (c.closed) return;
    if (TagRule(c) == SenderRule::kReset) {
      ResetConn(c);
      return;
    }
    if (c.classify == Classify::kHead && !c.head.empty()) {
      if (now >= c.head_since + options_.head_timeout || c.pipe[kUp].src_eof || c.dead[kClient]) {
        c.classify = Classify::kDone;
        ReleaseHeads(c, now);
      } else {
        wake = std::min(wake, c.head_since + options_.head_timeout);
      }
    }
    for (int d : {kUp, kDown}) {
      Pipe& p = c.pipe[d];
      const int dst = 1 - d;
      const Flow flow = FlowOf(c, d);
      if (flow == Flow::kDrop) {
        Discard(c, d);
        continue;
      }
      if (flow == Flow::kStall) continue;
      if (p.lost) {
        // Bytes were dropped out of the middle of this stream; what follows cannot be
        // understood, so end it the way a broken network path eventually does.
        ResetConn(c);
        return;
      }
      if (c.dead[dst] || (dst == kServer && c.connecting)) continue;
      Write(c, d, now, wake);
      const bool holding_head = d == kUp && !c.head.empty();
      if (!c.dead[dst] && p.queue.empty() && p.src_eof && !p.shut && !holding_head) {
        shutdown(c.fd[dst], SHUT_WR);
        p.shut = true;
      }
    }
    // A failed side is passed on (as RST) once the direction from it forwards again.
    for (int side : {kClient, kServer}) {
      if (c.dead[side] && FlowOf(c, side) == Flow::kPass) {
        ResetConn(c);
        return;
      }
    }
    const bool done_up = c.pipe[kUp].shut && c.pipe[kUp].queue.empty();
    const bool done_down = c.pipe[kDown].shut && c.pipe[kDown].queue.empty();
    if ((c.fd[kClient] < 0 && c.fd[kServer] < 0) || (done_up && done_down)) CloseConn(c);
  }

  void AddPollFds(Conn& c, std::vector<pollfd>& fds, std::vector<std::pair<Conn*, int>>& owners) {
    if (c.closed) return;
    for (int side : {kClient, kServer}) {
      if (c.fd[side] < 0) continue;
      short events = 0;
      if (side == kServer && c.connecting) {
        events = POLLOUT;
      } else {
        const Pipe& in = c.pipe[side];
        const Flow in_flow = FlowOf(c, side);
        if (!in.src_eof) {
          if (in_flow == Flow::kDrop) events |= POLLIN;
          if (in_flow == Flow::kPass && !c.dead[1 - side] && Room(c, side) > 0) events |= POLLIN;
        }
        const Pipe& out = c.pipe[1 - side];
        if (out.blocked && !out.queue.empty() && FlowOf(c, 1 - side) == Flow::kPass) {
          events |= POLLOUT;
        }
        if (events == 0 && c.hup[side]) continue;
      }
      fds.push_back({c.fd[side], events, 0});
      owners.push_back({&c, side});
    }
  }

  void AcceptAll() {
    for (int i = 0; i < kAcceptsPerRound; ++i) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      ++accepted_;
      if (cfg_.refuse) {
        ++refused_;
        ResetAndClose(fd);
        continue;
      }
      SetNoDelay(fd);
      auto c = std::make_unique<Conn>();
      c->fd[kClient] = fd;
      c->classify = options_.sender_header.empty() ? Classify::kDone : Classify::kHead;
      const int server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (server < 0) {
        c->dead[kServer] = true;
      } else {
        SetNoDelay(server);
        const sockaddr_in addr = Loopback(options_.target_port);
        c->fd[kServer] = server;
        if (connect(server, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
          c->connecting = false;
        } else if (errno == EINPROGRESS) {
          c->connecting = true;
        } else {
          MarkDead(*c, kServer);
        }
      }
      conns_.push_back(std::move(c));
    }
  }

  const int listen_fd_;
  const int wake_fd_;
  std::thread thread_;

  mutable internal::Mutex mu_;
  Config config_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  internal::CondVar applied_cv_;  // notified when applied_ or stop_ changes
  std::map<std::string, int64_t> tagged_ ABSL_GUARDED_BY(mu_);

  std::atomic<int64_t> accepted_{0};
  std::atomic<int64_t> refused_{0};
  std::atomic<int64_t> open_{0};
  std::atomic<int64_t> resets_{0};
  std::atomic<int64_t> bytes_[2] = {0, 0};
  std::atomic<int64_t> dropped_[2] = {0, 0};

  // Owned by the proxy thread.
  Config cfg_;
  uint64_t reset_epoch_seen_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
  char buffer_[kReadChunk];
};

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(FaultProxyOptions options) {
  if (options.target_port <= 0 || options.target_port > 65535 || options.listen_port < 0 ||
      options.listen_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FaultProxy: bad ports: listen ", options.listen_port, ", target ", options.target_port));
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("FaultProxy: socket(): ", ErrnoText(errno)));
  // A given port must be reusable right after a previous proxy on it closed (TIME_WAIT).
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = Loopback(options.listen_port);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat(
        "FaultProxy: cannot listen on 127.0.0.1:", options.listen_port, ": ", ErrnoText(err)));
  }
  const int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    const int err = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("FaultProxy: eventfd(): ", ErrnoText(err)));
  }
  auto impl = std::make_unique<Impl>(std::move(options), fd, wake, ntohs(addr.sin_port));
  impl->StartThread();
  return std::unique_ptr<FaultProxy>(new FaultProxy(std::move(impl)));
}

FaultProxy::FaultProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FaultProxy::~FaultProxy() = default;

int FaultProxy::port() const { return impl_->port_; }
int FaultProxy::target_port() const { return impl_->options_.target_port; }
std::string FaultProxy::address() const { return absl::StrCat("127.0.0.1:", impl_->port_); }

void FaultProxy::Pass() {
  impl_->Update([](Impl::Config& c) {
    const uint64_t epoch = c.reset_epoch;
    c = Impl::Config();
    c.reset_epoch = epoch;
  });
}

void FaultProxy::SetBlackHole(Direction direction, BlackHole mode) {
  impl_->Update([&](Impl::Config& c) { c.dir[Index(direction)].black_hole = mode; });
}

void FaultProxy::SetBlackHole(BlackHole mode) {
  impl_->Update([&](Impl::Config& c) { c.dir[kUp].black_hole = c.dir[kDown].black_hole = mode; });
}

void FaultProxy::SetDelay(Direction direction, absl::Duration delay) {
  impl_->Update([&](Impl::Config& c) {
    c.dir[Index(direction)].delay = std::max(delay, absl::ZeroDuration());
  });
}

void FaultProxy::SetDelay(absl::Duration delay) {
  impl_->Update([&](Impl::Config& c) {
    c.dir[kUp].delay = c.dir[kDown].delay = std::max(delay, absl::ZeroDuration());
  });
}

void FaultProxy::SetThrottle(Direction direction, int64_t bytes_per_second) {
  impl_->Update([&](Impl::Config& c) {
    c.dir[Index(direction)].throttle = std::max<int64_t>(bytes_per_second, 0);
  });
}

void FaultProxy::SetThrottle(int64_t bytes_per_second) {
  impl_->Update([&](Impl::Config& c) {
    c.dir[kUp].throttle = c.dir[kDown].throttle = std::max<int64_t>(bytes_per_second, 0);
  });
}

void FaultProxy::Reset(bool refuse_new) {
  impl_->Update([&](Impl::Config& c) {
    ++c.reset_epoch;
    c.refuse = refuse_new;
  });
}

void FaultProxy::SetRefuseNew(bool refuse) {
  impl_->Update([&](Impl::Config& c) { c.refuse = refuse; });
}

void FaultProxy::SetSenderRule(const std::string& sender, SenderRule rule) {
  impl_->Update([&](Impl::Config& c) {
    if (rule == SenderRule::kPass) {
      c.senders.erase(sender);
    } else {
      c.senders[sender] = rule;
    }
  });
}

void FaultProxy::ClearSenderRules() {
  impl_->Update([](Impl::Config& c) { c.senders.clear(); });
}

FaultProxyStats FaultProxy::stats() const { return impl_->Stats(); }

}  // namespace etcdgrpc::testing
