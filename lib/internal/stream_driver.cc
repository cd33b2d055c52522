#include "lib/internal/stream_driver.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"

namespace etcdgrpc::internal {

StreamDriver::StreamDriver(Connection& connection, Scheduler& timer, std::string method,
                           Options options, Hooks* hooks)
    : connection_(connection),
      timer_(timer),
      method_(std::move(method)),
      options_(options),
      hooks_(hooks),
      backoff_(options.backoff) {
  if (connection.metrics() != nullptr) metrics_ = connection.metrics()->ForStream(method_);
}

StreamDriver::~StreamDriver() { Shutdown(); }

void StreamDriver::EnsureStarted() {
  if (started_fast_.load(std::memory_order_acquire)) return;
  {
    MutexLock lock(&state_mu_);
    if (started_ || shutdown_) return;
    started_ = true;
    {
      MutexLock write_lock(&write_mu_);
      queue_ = hooks_->NewOutbox();
    }
    // The slot first: the threads ask it for wake-ups (the watchdogs), and
    // the timer drops RequestWake() for a slot it does not have yet. The
    // timer's lock is a leaf: taking it here orders nothing new.
    timer_.Add(this);
    const uint64_t token = ++reader_token_;
    readers_.Start([this, token] { ReaderLoop(token); });
    writer_ = std::thread([this] { WriterLoop(); });
  }
  started_fast_.store(true, std::memory_order_release);
}

void StreamDriver::Shutdown() {
  {
    MutexLock lock(&state_mu_);
    shutdown_ = true;
    shutdown_cv_.Notify();
    ++reader_token_;
    if (context_ != nullptr) context_->TryCancel();
    if (started_) SetState(StreamState::kClosed);
  }
  cancel_slot_.Cancel();
  {
    MutexLock lock(&write_mu_);
    writer_stop_ = true;
    write_cv_.Notify();
  }
  readers_.JoinAll();
  if (writer_.joinable()) writer_.join();
}

void StreamDriver::WithOutbox(absl::FunctionRef<void(Outbox*)> f) {
  MutexLock lock(&write_mu_);
  if (!open_) {
    f(nullptr);
    return;
  }
  const size_t queued = queue_->size();
  f(queue_.get());
  if (queue_->size() != queued) write_cv_.Notify();
}

void StreamDriver::WriteFromReader(absl::FunctionRef<void(Outbox*)> f) {
  std::unique_ptr<Outbox> burst;
  Call* call;
  {
    MutexLock lock(&write_mu_);
    if (!open_) {
      f(nullptr);
      return;
    }
    if (writing_ || !queue_->empty()) {
      // Behind others' messages: the writer thread keeps the order.
      const size_t queued = queue_->size();
      f(queue_.get());
      if (queue_->size() != queued) write_cv_.Notify();
      return;
    }
    burst = spare_burst_ != nullptr ? std::move(spare_burst_) : hooks_->NewOutbox();
    f(burst.get());
    if (burst->empty()) {
      spare_burst_ = std::move(burst);
      return;
    }
    writing_ = true;
    call = stream_;
  }
  const bool ok = WriteBurst(call, *burst);
  burst->clear();
  MutexLock lock(&write_mu_);
  spare_burst_ = std::move(burst);
  writing_ = false;
  // Wake the writer only for work (or a reader finishing the call): a
  // needless wake-up per burst costs more than the burst.
  if (!queue_->empty() || finishing_) write_cv_.Notify();
  if (!ok) AfterFailedWriteLocked(call);
}

void StreamDriver::WakeWriterBy(absl::Time when) {
  MutexLock lock(&write_mu_);
  if (when >= writer_wake_) return;
  writer_wake_ = when;
  write_cv_.Notify();
}

void StreamDriver::Break(absl::string_view reason, uint64_t generation) {
  MutexLock lock(&state_mu_);
  if (context_ == nullptr || !stall_reason_.empty() ||
      opens_.load(std::memory_order_relaxed) != generation) {
    return;
  }
  stall_reason_ = std::string(reason);
  stalls_.fetch_add(1, std::memory_order_relaxed);
  context_->TryCancel();
}

void StreamDriver::Restart() {
  MutexLock lock(&state_mu_);
  if (context_ != nullptr) context_->TryCancel();
}

void StreamDriver::RestartWithNewToken() {
  token_refused_.store(true, std::memory_order_relaxed);
  Restart();
}

StreamState StreamDriver::state() const {
  MutexLock lock(&state_mu_);
  return state_;
}

void StreamDriver::FillStats(StreamStats* out) const {
  out->state = std::string(StreamStateName(state()));
  out->endpoint = endpoint();
  out->opens = opens();
  out->stalls = stalls();
  out->handoffs = handoffs();
  out->reader_threads = reader_threads();
}

std::string StreamDriver::endpoint() const {
  MutexLock lock(&state_mu_);
  return endpoint_;
}

absl::Time StreamDriver::OnTimer(absl::Time now) {
  readers_.ReapFinished();
  absl::Time next = absl::InfiniteFuture();
  const int64_t write_ns = write_started_ns_.load(std::memory_order_acquire);
  if (write_ns != 0) {
    const absl::Time due = absl::FromUnixNanos(write_ns) + options_.write_timeout;
    if (now >= due) {
      Break(absl::StrCat("a write did not complete within ",
                         absl::FormatDuration(options_.write_timeout)),
            write_generation_.load(std::memory_order_acquire));
    } else {
      next = due;
    }
  }
  const int64_t busy_ns = busy_since_ns_.load(std::memory_order_acquire);
  if (busy_ns == 0) return next;
  const absl::Time due = absl::FromUnixNanos(busy_ns) + options_.handoff_after;
  if (now < due) return std::min(next, due);
  MutexLock lock(&state_mu_);
  if (shutdown_ || busy_since_ns_.load(std::memory_order_acquire) != busy_ns) return next;
  const uint64_t token = ++reader_token_;
  busy_since_ns_.store(0, std::memory_order_release);
  handoffs_.fetch_add(1, std::memory_order_relaxed);
  readers_.Start([this, token] { ReaderLoop(token); });
  return next;
}

void StreamDriver::SetState(StreamState state, absl::string_view detail) {
  if (state_ == state) return;
  LogStreamTransition(method_, endpoint_, state_, state, detail);
  state_ = state;
}

bool StreamDriver::IsCurrent(uint64_t token) {
  MutexLock lock(&state_mu_);
  return token == reader_token_ && !shutdown_;
}

bool StreamDriver::IsShutdown() {
  MutexLock lock(&state_mu_);
  return shutdown_;
}

// Body of every reader thread. Only the thread whose token is current
// touches the call; a thread handed off ends when its handler call returns.
void StreamDriver::ReaderLoop(uint64_t token) {
  reader_id_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  const std::unique_ptr<Message> message = hooks_->NewResponse();
  while (IsCurrent(token)) {
    if (call_ == nullptr) {
      Connect();
      continue;
    }
    if (!call_->Read(message.get())) {
      FinishAndWait();
      continue;
    }
    received_ = true;
    const absl::Time now = MonoNow();
    const int64_t now_ns = absl::ToUnixNanos(now);
    last_activity_ns_.store(now_ns, std::memory_order_relaxed);
    connection_.ReportHealthy(call_index_);
    busy_since_ns_.store(now_ns, std::memory_order_release);
    // Ask the watchdog to look in time, but not on every message.
    const int64_t requested = watchdog_requested_ns_.load(std::memory_order_relaxed);
    if (absl::ToUnixNanos(now + options_.handoff_after / 2) > requested) {
      const absl::Time when = now + options_.handoff_after;
      watchdog_requested_ns_.store(absl::ToUnixNanos(when), std::memory_order_relaxed);
      timer_.RequestWake(this, when);
    }
    hooks_->OnMessage(*message);
    int64_t expected = now_ns;
    busy_since_ns_.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
  }
}

// Writes `burst` on `call` (buffer_hint on all but the last message), under
// the write watchdog; false once the call is broken. No lock held.
bool StreamDriver::WriteBurst(Call* call, const Outbox& burst) {
  const absl::Time started = MonoNow();
  // Under the writer lock's protocol the stream cannot be reopened while
  // this write runs (the reader waits for it), so this is its generation.
  write_generation_.store(opens_.load(std::memory_order_relaxed), std::memory_order_release);
  // Ask the watchdog to look in time, but not for every burst.
  const int64_t requested = write_watch_requested_ns_.load(std::memory_order_relaxed);
  if (absl::ToUnixNanos(started + options_.write_timeout / 2) > requested) {
    const absl::Time when = started + options_.write_timeout;
    write_watch_requested_ns_.store(absl::ToUnixNanos(when), std::memory_order_relaxed);
    timer_.RequestWake(this, when);
  }
  bool ok = true;
  const size_t size = burst.size();
  for (size_t i = 0; i < size && ok; ++i) {
    grpc::WriteOptions write_options;
    if (i + 1 < size) write_options.set_buffer_hint();
    write_started_ns_.store(absl::ToUnixNanos(i == 0 ? started : MonoNow()),
                            std::memory_order_release);
    ok = call->Write(burst.at(i), write_options);
  }
  write_started_ns_.store(0, std::memory_order_release);
  return ok;
}

void StreamDriver::AfterFailedWriteLocked(Call* call) {
  if (stream_ != call) return;  // the reader already finished that call
  open_ = false;
  queue_->clear();
  stream_context_->TryCancel();
}

// The thread that writes everything but WriteFromReader()'s messages: takes
// everything queued and writes it as one burst. Blocking here (flow control
// against a member that stopped reading) holds up nobody; the watchdog
// breaks the stream if it lasts.
void StreamDriver::WriterLoop() {
  const std::unique_ptr<Outbox> batch = hooks_->NewOutbox();
  MutexLock lock(&write_mu_);
  while (true) {
    // Woken early when the wake time moves (WakeWriterBy), to wait anew.
    const absl::Time planned = writer_wake_;
    write_cv_.WaitUntil(
        write_mu_, open_ && !writing_ ? planned : absl::InfiniteFuture(),
        [this, planned]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return writer_stop_ || writer_wake_ != planned ||
                 (open_ && !writing_ && (!queue_->empty() || writer_wake_ <= MonoNow()));
        });
    if (writer_stop_) return;
    if (!open_ || writing_) continue;
    if (const absl::Time now = MonoNow(); writer_wake_ <= now) {
      writer_wake_ = hooks_->OnWriterTick(now, *queue_);
    }
    if (queue_->empty()) continue;
    batch->swap(*queue_);
    Call* const call = stream_;
    writing_ = true;
    write_mu_.Unlock();
    const bool ok = WriteBurst(call, *batch);
    batch->clear();
    write_mu_.Lock();
    writing_ = false;
    if (finishing_) write_cv_.Notify();  // the reader waits for the writer to leave the call
    if (!ok) AfterFailedWriteLocked(call);
  }
}

}  // namespace etcdgrpc::internal
