#include "lib/internal/wire_log_interceptor.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/reflection.h"

namespace etcdgrpc::internal {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Credentials must not end up in a log file: Auth messages are copied and
// their password and token fields blanked before printing.
std::string Redacted(const google::protobuf::Message& message) {
  std::unique_ptr<google::protobuf::Message> copy(message.New());
  copy->CopyFrom(message);
  const google::protobuf::Descriptor* descriptor = copy->GetDescriptor();
  const google::protobuf::Reflection* reflection = copy->GetReflection();
  for (const char* name : {"password", "token", "hashedPassword"}) {
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(name);
    if (field != nullptr && !field->is_repeated() &&
        field->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
        !reflection->GetString(*copy, field).empty()) {
      reflection->SetString(copy.get(), field, "<redacted>");
    }
  }
  return copy->ShortDebugString();
}

class WireLogInterceptor : public grpc::experimental::Interceptor {
 public:
  WireLogInterceptor(WireLogSink* sink, const std::string* endpoint, std::string method,
                     uint64_t call_id)
      : sink_(sink),
        endpoint_(endpoint),
        method_(std::move(method)),
        call_id_(call_id),
        redact_(absl::StartsWith(method_, "/etcdserverpb.Auth/")) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (const void* message = methods->GetSendMessage()) {
        LogMessage(WireDirection::kSend, *static_cast<const google::protobuf::Message*>(message));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (void* message = methods->GetRecvMessage()) {
        LogMessage(WireDirection::kReceive, *static_cast<google::protobuf::Message*>(message));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      if (grpc::Status* status = methods->GetRecvStatus()) {
        std::string text = status->ok() ? "OK"
                                        : absl::StrCat("code=", status->error_code(), " message=\"",
                                                       status->error_message(), "\"");
        Log(WireDirection::kEnd, 0, text);
      }
    }
    methods->Proceed();
  }

 private:
  void LogMessage(WireDirection direction, const google::protobuf::Message& message) {
    std::string text = redact_ ? Redacted(message) : message.ShortDebugString();
    Log(direction, message.ByteSizeLong(), text);
  }

  void Log(WireDirection direction, size_t bytes, std::string_view text) {
    sink_->Record(WireLogRecord{.time_us = absl::ToUnixMicros(absl::Now()),
                                .endpoint = *endpoint_,
                                .method = method_,
                                .call_id = call_id_,
                                .direction = direction,
                                .bytes = bytes,
                                .text = text});
  }

  WireLogSink* sink_;
  const std::string* endpoint_;
  std::string method_;
  uint64_t call_id_;
  bool redact_;
};

}  // namespace

WireLogInterceptorFactory::WireLogInterceptorFactory(
    std::shared_ptr<WireLogSink> sink, std::string endpoint,
    std::shared_ptr<std::atomic<uint64_t>> call_ids)
    : sink_(std::move(sink)), endpoint_(std::move(endpoint)), call_ids_(std::move(call_ids)) {}

grpc::experimental::Interceptor* WireLogInterceptorFactory::CreateClientInterceptor(
    grpc::experimental::ClientRpcInfo* info) {
  return new WireLogInterceptor(sink_.get(), &endpoint_, info->method(),
                                call_ids_->fetch_add(1, std::memory_order_relaxed) + 1);
}

}  // namespace etcdgrpc::internal
