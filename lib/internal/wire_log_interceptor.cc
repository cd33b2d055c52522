#include "lib/internal/wire_log_interceptor.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace etcdgrpc::internal {
namespace {

using grpc::experimental::InterceptionHookPoints;

std::string Format(const google::protobuf::Message& message, WireLogFormat format) {
  if (format == WireLogFormat::kText) return message.ShortDebugString();
  std::string json;
  // Our own messages always map; an empty object keeps the line valid if not.
  if (!google::protobuf::util::MessageToJsonString(message, &json).ok()) return "{}";
  return json;
}

// Credentials must not end up in a log file: Auth messages are copied and
// their password and token fields blanked before printing.
std::string Redacted(const google::protobuf::Message& message, WireLogFormat format) {
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
  return Format(*copy, format);
}

class WireLogInterceptor : public grpc::experimental::Interceptor {
 public:
  WireLogInterceptor(WireLogSink* sink, WireLogFormat format, const std::string* endpoint,
                     std::string method, uint64_t call_id)
      : sink_(sink),
        format_(format),
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
        Log(WireDirection::kEnd, 0, StatusText(*status));
      }
    }
    methods->Proceed();
  }

 private:
  std::string StatusText(const grpc::Status& status) const {
    if (format_ == WireLogFormat::kJson) {
      return nlohmann::json{{"code", static_cast<int>(status.error_code())},
                            {"message", status.error_message()}}
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return status.ok() ? "OK"
                       : absl::StrCat("code=", status.error_code(), " message=\"",
                                      status.error_message(), "\"");
  }

  void LogMessage(WireDirection direction, const google::protobuf::Message& message) {
    std::string text = redact_ ? Redacted(message, format_) : Format(message, format_);
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
  WireLogFormat format_;
  const std::string* endpoint_;
  std::string method_;
  uint64_t call_id_;
  bool redact_;
};

}  // namespace

WireLogInterceptorFactory::WireLogInterceptorFactory(
    std::shared_ptr<WireLogSink> sink, std::string endpoint,
    std::shared_ptr<std::atomic<uint64_t>> call_ids)
    : sink_(std::move(sink)),
      format_(sink_->format()),
      endpoint_(std::move(endpoint)),
      call_ids_(std::move(call_ids)) {}

grpc::experimental::Interceptor* WireLogInterceptorFactory::CreateClientInterceptor(
    grpc::experimental::ClientRpcInfo* info) {
  return new WireLogInterceptor(sink_.get(), format_, &endpoint_, info->method(),
                                call_ids_->fetch_add(1, std::memory_order_relaxed) + 1);
}

}  // namespace etcdgrpc::internal
