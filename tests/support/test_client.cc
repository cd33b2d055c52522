#include "test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "status_matchers.h"

namespace etcdgrpc::testing {

std::unique_ptr<Client> ConnectTo(const std::vector<std::string>& endpoints,
                                  const TestClientOptions& options) {
  ClientOptions client;
  client.endpoints = endpoints;
  if (options.request_timeout.has_value()) client.request_timeout = *options.request_timeout;
  if (options.stream_backoff.has_value()) client.stream_backoff = *options.stream_backoff;
  client.wire_log = options.wire_log;
  return ConnectWith(client);
}

std::unique_ptr<Client> ConnectWith(const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  EXPECT_THAT(client, IsOk());
  return client.ok() ? *std::move(client) : nullptr;
}

std::string ClosedEndpoint() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket(): " << std::strerror(errno);
    return "";
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                     getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int error = errno;
  close(fd);
  if (!bound) {
    ADD_FAILURE() << "cannot bind a port on 127.0.0.1: " << std::strerror(error);
    return "";
  }
  return absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
}

}  // namespace etcdgrpc::testing
