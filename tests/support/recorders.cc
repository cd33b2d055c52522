#include "recorders.h"

namespace etcdgrpc::testing {

// Waits (bounded) with the lock held until pred(), which reads the guarded state.
template <class Pred>
bool WatchRecorder::Await(Pred pred, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&pred), timeout);
}

void WatchRecorder::OnEvents(const WatchEvents& batch) {
  absl::MutexLock lock(&mu_);
  ++batches_;
  for (const Event& event : batch.events) events_.push_back(event);
}

void WatchRecorder::OnProgress(int64_t revision) {
  absl::MutexLock lock(&mu_);
  progress_.push_back(revision);
}

void WatchRecorder::OnEnd(const WatchEnd& end) {
  absl::MutexLock lock(&mu_);
  ends_.push_back(end);
}

bool WatchRecorder::WaitForEvents(size_t n, absl::Duration timeout) {
  return Await([this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return events_.size() >= n; }, timeout);
}

bool WatchRecorder::WaitForEventAt(int64_t revision, absl::Duration timeout) {
  return Await(
      [this, revision]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !events_.empty() && events_.back().kv.mod_revision >= revision;
      },
      timeout);
}

bool WatchRecorder::WaitForProgress(absl::Duration timeout) {
  return Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !progress_.empty(); }, timeout);
}

bool WatchRecorder::WaitForEnd(absl::Duration timeout) {
  return Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !ends_.empty(); }, timeout);
}

std::vector<Event> WatchRecorder::events() {
  absl::MutexLock lock(&mu_);
  return events_;
}

std::vector<std::string> WatchRecorder::keys() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> keys;
  for (const Event& event : events_) keys.push_back(event.kv.key);
  return keys;
}

std::vector<std::string> WatchRecorder::values() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> values;
  for (const Event& event : events_) values.push_back(event.kv.value);
  return values;
}

std::vector<int64_t> WatchRecorder::revisions() {
  absl::MutexLock lock(&mu_);
  std::vector<int64_t> revisions;
  for (const Event& event : events_) revisions.push_back(event.kv.mod_revision);
  return revisions;
}

int WatchRecorder::batches() {
  absl::MutexLock lock(&mu_);
  return batches_;
}

std::vector<int64_t> WatchRecorder::progress() {
  absl::MutexLock lock(&mu_);
  return progress_;
}

std::vector<WatchEnd> WatchRecorder::ends() {
  absl::MutexLock lock(&mu_);
  return ends_;
}

bool WatchRecorder::ended() {
  absl::MutexLock lock(&mu_);
  return !ends_.empty();
}

absl::Status WatchRecorder::end_status() {
  absl::MutexLock lock(&mu_);
  return ends_.empty() ? absl::OkStatus() : ends_.back().status;
}

template <class Pred>
bool LeaseRecorder::Await(Pred pred, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&pred), timeout);
}

void LeaseRecorder::OnRenewed(int64_t /*lease_id*/, int64_t /*ttl*/) {
  absl::MutexLock lock(&mu_);
  ++renewals_;
}

void LeaseRecorder::OnLost(int64_t /*lease_id*/, const LeaseLoss& loss) {
  absl::MutexLock lock(&mu_);
  losses_.push_back(loss);
}

bool LeaseRecorder::WaitForRenewals(int n, absl::Duration timeout) {
  return Await([this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return renewals_ >= n; }, timeout);
}

bool LeaseRecorder::WaitForLoss(absl::Duration timeout) {
  return Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !losses_.empty(); }, timeout);
}

int LeaseRecorder::renewals() {
  absl::MutexLock lock(&mu_);
  return renewals_;
}

std::vector<LeaseLoss> LeaseRecorder::losses() {
  absl::MutexLock lock(&mu_);
  return losses_;
}

}  // namespace etcdgrpc::testing
