// A worker process for concurrency_process_test: several of them run against
// one etcd cluster while members are killed and frozen.
//   concurrency_worker counter ENDPOINTS STOP_KEY LOCK COUNTER_KEY ITERATIONS
//     Lock, read the counter, write it plus one (a read-modify-write that only
//     the lock makes safe), unlock.
//   concurrency_worker leader ENDPOINTS STOP_KEY ELECTION LOG_PREFIX TERMS ID
//     Campaign, write LOG_PREFIX<ID>/<term>/start, hold 20 ms, write
//     .../end, resign. Overlapping [start, end] revisions of two workers
//     would be two leaders at once.
// Each repeats at least ITERATIONS (TERMS) times and then until STOP_KEY
// exists, so the test's faults always fall while the workers work however
// fast the machine is; bounded by kStopAnyway. Prints "done N" (the rounds it
// completed) on stdout. Failures in transit are retried, without ever
// assuming a write was lost: a write that may have been applied is checked by
// reading it back. Exit 0 when done, 2 on bad arguments, 3 when the lock or
// leadership was lost, 4 when etcd stayed unusable for 30 s.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/concurrency/election.h"
#include "etcdgrpc/concurrency/mutex.h"
#include "etcdgrpc/concurrency/session.h"

namespace etcdgrpc::concurrency {
namespace {

constexpr absl::Duration kGiveUpAfter = absl::Seconds(30);
// Past this, a worker stops after its minimum without waiting for STOP_KEY
// (the test's own bound on the workers is 60 s).
constexpr absl::Duration kStopAnyway = absl::Seconds(40);

// Repeats `attempt` while it fails, for up to kGiveUpAfter; exits 4 after.
absl::Status Retry(const char* what, const std::function<absl::Status()>& attempt) {
  const absl::Time deadline = absl::Now() + kGiveUpAfter;
  while (true) {
    absl::Status status = attempt();
    if (status.ok() || absl::IsFailedPrecondition(status)) return status;
    if (absl::Now() > deadline) {
      std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
      std::exit(4);
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// Puts `key` unless it exists (so that a retried put does not move it); its
// create revision.
int64_t PutOnce(Client& client, const std::string& key) {
  int64_t revision = 0;
  (void)Retry("log put", [&]() -> absl::Status {
    TxnRequest txn;
    txn.If(Compare::CreateRevision(key).Equal(0)).Then(Op::Put(key, "")).Else(Op::Get(key));
    absl::StatusOr<TxnResult> result = client.Txn(txn);
    if (!result.ok()) return result.status();
    revision = result->succeeded ? result->header.revision
                                 : result->results[0].get()->kvs[0].create_revision;
    return absl::OkStatus();
  });
  return revision;
}

// Whether a worker that has done `done` of at least `minimum` rounds stops.
bool ShouldStop(Client& client, const std::string& stop_key, int done, int minimum,
                absl::Time started) {
  if (done < minimum) return false;
  if (absl::Now() - started > kStopAnyway) return true;
  bool stop = false;
  (void)Retry("stop key", [&]() -> absl::Status {
    absl::StatusOr<GetResult> got = client.Get(stop_key);
    if (!got.ok()) return got.status();
    stop = !got->kvs.empty();
    return absl::OkStatus();
  });
  return stop;
}

int Counter(Client& client, const std::string& stop_key, const std::string& lock,
            const std::string& key, int iterations) {
  const absl::Time started = absl::Now();
  std::shared_ptr<Session> session;
  (void)Retry("session", [&]() -> absl::Status {
    absl::StatusOr<std::shared_ptr<Session>> made =
        Session::Create(client, SessionOptions{.ttl_seconds = 10});
    if (made.ok()) session = *made;
    return made.status();
  });
  Mutex mutex(session, lock);
  int done = 0;
  for (; !ShouldStop(client, stop_key, done, iterations, started); ++done) {
    if (absl::Status s = Retry("lock", [&] { return mutex.Lock(); }); !s.ok()) {
      std::fprintf(stderr, "lock: %s\n", s.ToString().c_str());
      return 3;
    }
    int64_t value = 0;
    (void)Retry("get", [&]() -> absl::Status {
      absl::StatusOr<GetResult> got = client.Get(key);
      if (!got.ok()) return got.status();
      value = 0;
      if (!got->kvs.empty() && !absl::SimpleAtoi(got->kvs[0].value, &value)) {
        return absl::InternalError("bad counter");
      }
      return absl::OkStatus();
    });
    const std::string next = std::to_string(value + 1);
    (void)Retry("put", [&]() -> absl::Status {
      absl::StatusOr<PutResult> put = client.Put(key, next);
      if (put.ok()) return absl::OkStatus();
      // Applied or not? We hold the lock: nobody else writes it.
      absl::StatusOr<GetResult> got = client.Get(key);
      if (got.ok() && !got->kvs.empty() && got->kvs[0].value == next) return absl::OkStatus();
      return put.status();
    });
    if (absl::Status held = mutex.status(); !held.ok()) {
      std::fprintf(stderr, "lost while holding: %s\n", held.ToString().c_str());
      return 3;
    }
    (void)Retry("unlock", [&] { return mutex.Unlock(); });
  }
  (void)session->Close();
  std::printf("done %d\n", done);
  return 0;
}

int Leader(Client& client, const std::string& stop_key, const std::string& name,
           const std::string& log, int terms, const std::string& id) {
  const absl::Time started = absl::Now();
  std::shared_ptr<Session> session;
  (void)Retry("session", [&]() -> absl::Status {
    absl::StatusOr<std::shared_ptr<Session>> made =
        Session::Create(client, SessionOptions{.ttl_seconds = 10});
    if (made.ok()) session = *made;
    return made.status();
  });
  Election election(session, name);
  int term = 0;
  for (; !ShouldStop(client, stop_key, term, terms, started); ++term) {
    if (absl::Status s = Retry("campaign", [&] { return election.Campaign(id); }); !s.ok()) {
      std::fprintf(stderr, "campaign: %s\n", s.ToString().c_str());
      return 3;
    }
    const std::string prefix = absl::StrCat(log, id, "/", term, "/");
    PutOnce(client, prefix + "start");
    absl::SleepFor(absl::Milliseconds(20));
    if (absl::Status held = election.status(); !held.ok()) {
      std::fprintf(stderr, "lost while leading: %s\n", held.ToString().c_str());
      return 3;
    }
    PutOnce(client, prefix + "end");
    (void)Retry("resign", [&] { return election.Resign(); });
  }
  (void)session->Close();
  std::printf("done %d\n", term);
  return 0;
}

int Main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: see concurrency_worker.cc\n");
    return 2;
  }
  const std::string mode = argv[1];
  ClientOptions options;
  options.endpoints = absl::StrSplit(argv[2], ',');
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    return 4;
  }
  int count = 0;
  if (!absl::SimpleAtoi(argv[6], &count)) return 2;
  if (mode == "counter" && argc == 7) return Counter(**client, argv[3], argv[4], argv[5], count);
  if (mode == "leader" && argc == 8) {
    return Leader(**client, argv[3], argv[4], argv[5], count, argv[7]);
  }
  return 2;
}

}  // namespace
}  // namespace etcdgrpc::concurrency

int main(int argc, char** argv) { return etcdgrpc::concurrency::Main(argc, argv); }
