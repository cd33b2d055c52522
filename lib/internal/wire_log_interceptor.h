// The gRPC client interceptor behind the wire log: installed on a client's
// channels only when ClientOptions::wire_log is set, so a client without a
// wire log pays nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "etcdgrpc/wire_log.h"
#include "grpcpp/support/client_interceptor.h"

namespace etcdgrpc::internal {

class WireLogInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  // `call_ids` is shared by all endpoints of a client so ids are unique per client.
  WireLogInterceptorFactory(std::shared_ptr<WireLogSink> sink, std::string endpoint,
                            std::shared_ptr<std::atomic<uint64_t>> call_ids);
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override;

 private:
  std::shared_ptr<WireLogSink> sink_;
  WireLogFormat format_;
  std::string endpoint_;
  std::shared_ptr<std::atomic<uint64_t>> call_ids_;
};

}  // namespace etcdgrpc::internal
