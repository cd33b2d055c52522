#include "common/listener_runner.h"

#include <utility>

#include "common/clock.h"

namespace etcdgrpc::internal {

namespace {
// The runner this thread is a worker of, if any; set once, for the life of
// the thread. The runner cannot be freed while it runs: the worker holds a
// reference.
thread_local const ListenerRunner* this_thread_runner = nullptr;
}  // namespace

std::shared_ptr<ListenerRunner> ListenerRunner::Create(absl::Duration handoff,
                                                       Scheduler* scheduler) {
  return std::shared_ptr<ListenerRunner>(new ListenerRunner(handoff, scheduler));
}

ListenerRunner::ListenerRunner(absl::Duration handoff, Scheduler* scheduler)
    : handoff_(handoff), scheduler_(scheduler) {}

ListenerRunner::~ListenerRunner() {
  // Workers hold a reference to the runner, so only finished workers (or the
  // calling thread's own, detached by Shutdown) can be left here.
  std::list<std::unique_ptr<Worker>> workers;
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    workers.swap(workers_);
    work_.Notify();
  }
  for (auto& worker : workers) {
    if (!worker->thread.joinable()) continue;
    if (worker->thread.get_id() == std::this_thread::get_id()) {
      worker->thread.detach();
    } else {
      worker->thread.join();
    }
  }
}

void ListenerRunner::StartWorkerLocked() {
  const uint64_t token = ++token_;
  work_.Notify();  // the worker handed off from stops waiting
  worker_running_ = true;
  busy_since_ = absl::InfinitePast();
  workers_started_.fetch_add(1, std::memory_order_relaxed);
  auto worker = std::make_unique<Worker>();
  Worker* raw = worker.get();
  workers_.push_back(std::move(worker));
  // The worker takes mu_ before anything else, so it sees `thread` set.
  raw->thread = std::thread([self = shared_from_this(), token, raw] { self->Work(token, raw); });
}

std::list<std::unique_ptr<ListenerRunner::Worker>> ListenerRunner::TakeFinishedLocked() {
  std::list<std::unique_ptr<Worker>> finished;
  for (auto it = workers_.begin(); it != workers_.end();) {
    auto next = std::next(it);
    if ((*it)->finished.load(std::memory_order_acquire)) {
      finished.splice(finished.end(), workers_, it);
    }
    it = next;
  }
  return finished;
}

void ListenerRunner::Join(std::list<std::unique_ptr<Worker>>& workers) {
  for (auto& worker : workers) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  workers.clear();
}

void ListenerRunner::Post(Job job) {
  std::list<std::unique_ptr<Worker>> finished;
  // Set when shut down: run here rather than dropped.
  Job run_here;
  {
    MutexLock lock(&mu_);
    if (shutdown_) {
      run_here = std::move(job);
    } else {
      queue_.push_back(std::move(job));
      work_.Notify();
      if (!worker_running_) {
        finished = TakeFinishedLocked();
        StartWorkerLocked();
      }
    }
  }
  Join(finished);
  if (run_here) std::move(run_here)();
}

bool ListenerRunner::IsWorker() const { return this_thread_runner == this; }

void ListenerRunner::Work(uint64_t token, Worker* worker) {
  this_thread_runner = this;
  std::weak_ptr<ListenerRunner> weak = weak_from_this();
  mu_.Lock();
  while (token == token_ && !shutdown_) {
    if (queue_.empty()) {
      work_.Wait(mu_, [this, token]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !queue_.empty() || shutdown_ || token != token_;
      });
      continue;
    }
    Job job = std::move(queue_.front());
    queue_.pop_front();
    const absl::Time now = MonoNow();
    busy_since_ = now;
    absl::Time arm = absl::InfiniteFuture();
    if (check_at_ == absl::InfiniteFuture()) {
      check_at_ = now + handoff_;
      arm = check_at_;
    }
    mu_.Unlock();
    if (arm != absl::InfiniteFuture()) {
      scheduler_->PostAt(arm, [weak] {
        if (auto self = weak.lock()) self->Check();
      });
    }
    std::move(job)();
    job = nullptr;  // its captures die outside the lock
    mu_.Lock();
    if (token == token_) busy_since_ = absl::InfinitePast();
  }
  if (token == token_) worker_running_ = false;
  mu_.Unlock();
  worker->finished.store(true, std::memory_order_release);
}

void ListenerRunner::Check() {
  absl::Time arm = absl::InfiniteFuture();
  std::list<std::unique_ptr<Worker>> finished;
  {
    MutexLock lock(&mu_);
    check_at_ = absl::InfiniteFuture();
    if (shutdown_) return;
    finished = TakeFinishedLocked();
    if (busy_since_ != absl::InfinitePast()) {
      const absl::Time due = busy_since_ + handoff_;
      if (MonoNow() >= due) {
        // The blocked worker ends when its job returns; a new one carries on.
        StartWorkerLocked();
      } else {
        check_at_ = due;
        arm = due;
      }
    }
  }
  Join(finished);
  if (arm != absl::InfiniteFuture()) {
    std::weak_ptr<ListenerRunner> weak = weak_from_this();
    scheduler_->PostAt(arm, [weak] {
      if (auto self = weak.lock()) self->Check();
    });
  }
}

void ListenerRunner::Shutdown() {
  std::list<std::unique_ptr<Worker>> workers;
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    workers.swap(workers_);
    work_.Notify();
  }
  std::list<std::unique_ptr<Worker>> detached;
  for (auto it = workers.begin(); it != workers.end();) {
    auto next = std::next(it);
    Worker& worker = **it;
    if (worker.thread.joinable() && worker.thread.get_id() == std::this_thread::get_id()) {
      // Called from inside a job: this worker ends once the job returns; it
      // holds a reference to the runner until then.
      worker.thread.detach();
      detached.splice(detached.end(), workers, it);
    } else if (worker.thread.joinable()) {
      worker.thread.join();
    } else if (!worker.finished.load(std::memory_order_acquire)) {
      // Detached by an earlier Shutdown() and still running.
      detached.splice(detached.end(), workers, it);
    }
    it = next;
  }
  {
    MutexLock lock(&mu_);
    // A detached worker still writes its `finished` flag.
    workers_.splice(workers_.end(), detached);
  }
  // Jobs left behind by a worker that was handed off or stopped.
  while (true) {
    Job job;
    {
      MutexLock lock(&mu_);
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(job)();
  }
}

}  // namespace etcdgrpc::internal
