// Uses the installed headers and library: builds a range and makes a real
// connection attempt, which must fail cleanly on a closed port.
#include <cstdio>

#include "etcdgrpc/client.h"

int main() {
  etcdgrpc::KeyRange range = etcdgrpc::KeyRange::Prefix("/services/");
  if (range.range_end() != "/services0") return 1;
  etcdgrpc::ClientOptions options;
  options.endpoints = {"127.0.0.1:1"};
  options.dial_timeout = absl::Milliseconds(200);
  auto client = etcdgrpc::Client::Connect(options);
  if (client.ok() || !absl::IsUnavailable(client.status())) {
    std::printf("unexpected: %s\n", client.status().ToString().c_str());
    return 1;
  }
  std::printf("consumer ok: %s\n", client.status().ToString().c_str());
  return 0;
}
