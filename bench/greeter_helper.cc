// RunGreeterHelper (greeter_helper.h).
#include "greeter_helper.h"

#include <cstdio>

#include "absl/time/clock.h"
#include "etcdgrpc/registry/registrar.h"
#include "greeter_test_server.h"

namespace etcdgrpc::bench {

absl::Status RunGreeterHelper(Client& client, const std::string& id) {
  absl::StatusOr<std::unique_ptr<testing::TestGreeterServer>> server =
      testing::TestGreeterServer::Start(id);
  if (!server.ok()) return server.status();
  // The demo's TTL: a killed server's record goes within about 3 s.
  registry::Registrar registrar(client, {.prefix = kCallsPrefix, .ttl = absl::Seconds(3)});
  absl::StatusOr<registry::Registration> registration =
      registrar.Register({.service = "greeter", .id = id, .address = (*server)->address()});
  if (!registration.ok()) return registration.status();
  std::printf("ready %s\n", (*server)->address().c_str());
  std::fflush(stdout);
  while (true) absl::SleepFor(absl::Hours(1));  // until the benchmark kills it
}

}  // namespace etcdgrpc::bench
