#include "concurrency_helper.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/concurrency/election.h"
#include "etcdgrpc/concurrency/mutex.h"
#include "etcdgrpc/concurrency/session.h"
#include "greeter_helper.h"

namespace etcdgrpc::bench {
namespace {

absl::Status RunLockHelper(Client& client, const std::string& name) {
  absl::StatusOr<std::shared_ptr<concurrency::Session>> session =
      concurrency::Session::Create(client, concurrency::SessionOptions{.ttl_seconds = 10});
  if (!session.ok()) return session.status();
  concurrency::Mutex mutex(*session, name);
  std::string line;
  while (std::getline(std::cin, line) && line == "lock") {
    if (absl::Status locked = mutex.Lock(); !locked.ok()) return locked;
    const int64_t acquired_us = absl::ToUnixMicros(absl::Now());
    if (absl::Status unlocked = mutex.Unlock(); !unlocked.ok()) return unlocked;
    std::printf("%lld\n", static_cast<long long>(acquired_us));
    std::fflush(stdout);
  }
  return (*session)->Close();
}

absl::Status RunElectHelper(Client& client, const std::string& name) {
  for (int term = 0;; ++term) {
    absl::StatusOr<std::shared_ptr<concurrency::Session>> session =
        concurrency::Session::Create(client, concurrency::SessionOptions{.ttl_seconds = 10});
    if (!session.ok()) return session.status();
    // The key's deletion (the lease revoked) ends the term at once; the
    // session itself hears of it only at its next renewal.
    internal::Notification lost;
    concurrency::Election election(
        *session, name,
        concurrency::ElectionOptions{.on_lost = [&](const absl::Status&) { lost.Notify(); }});
    absl::Status campaigned = election.Campaign(absl::StrCat(getpid(), "-", term));
    // Revoked while waiting as the standby: a new term at once.
    if (absl::IsFailedPrecondition(campaigned)) continue;
    if (!campaigned.ok()) return campaigned;
    lost.WaitForNotification();
  }
}

}  // namespace

absl::Status RunConcurrencyHelper(const HelperPlan& plan) {
  ClientOptions options;
  options.endpoints = plan.endpoints;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  if (plan.mode == "lock") return RunLockHelper(**client, plan.name);
  if (plan.mode == "elect") return RunElectHelper(**client, plan.name);
  // --- balanced calls: a greeter server process (greeter_helper.h) ---
  if (plan.mode == "greeter") return RunGreeterHelper(**client, plan.name);
  return absl::InvalidArgumentError(absl::StrCat("unknown helper mode ", plan.mode));
}

absl::StatusOr<HelperProcess> SpawnHelper(const std::string& self_path, const HelperPlan& plan) {
  return PipedProcess::Spawn(
      {self_path, absl::StrCat("--endpoints=", absl::StrJoin(plan.endpoints, ",")),
       absl::StrCat("--concurrency_helper=", plan.mode), absl::StrCat("--helper_name=", plan.name)},
      "the helper", absl::ZeroDuration());
}

}  // namespace etcdgrpc::bench
