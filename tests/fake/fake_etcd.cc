#include "fake_etcd.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace etcdgrpc::testing {

void FakeLeaseService::set_mode(Mode mode) {
  internal::MutexLock lock(&mu_);
  mode_ = mode;
}

void FakeLeaseService::set_ttl(int64_t ttl) {
  internal::MutexLock lock(&mu_);
  ttl_ = ttl;
}

void FakeLeaseService::DropStreams() {
  internal::MutexLock lock(&mu_);
  for (grpc::ServerContext* context : open_) context->TryCancel();
}

void FakeLeaseService::DropOnNextRequest() {
  internal::MutexLock lock(&mu_);
  drop_on_next_ = true;
}

int FakeLeaseService::streams_opened() {
  internal::MutexLock lock(&mu_);
  return streams_opened_;
}

std::map<int64_t, std::vector<absl::Time>> FakeLeaseService::requests() {
  internal::MutexLock lock(&mu_);
  return requests_;
}

bool FakeLeaseService::WaitForRequests(int64_t id, size_t n, absl::Duration timeout) {
  internal::MutexLock lock(&mu_);
  return requests_cv_.WaitUntil(mu_, internal::MonoNow() + timeout,
                                [this, id, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                  auto it = requests_.find(id);
                                  return it != requests_.end() && it->second.size() >= n;
                                });
}

grpc::Status FakeLeaseService::LeaseKeepAlive(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse,
                             etcdserverpb::LeaseKeepAliveRequest>* stream) {
  {
    internal::MutexLock lock(&mu_);
    ++streams_opened_;
    open_.insert(context);
  }
  etcdserverpb::LeaseKeepAliveRequest request;
  while (stream->Read(&request)) {
    Mode mode;
    int64_t ttl;
    {
      internal::MutexLock lock(&mu_);
      requests_[request.id()].push_back(absl::Now());
      requests_cv_.Notify();
      if (drop_on_next_) {
        drop_on_next_ = false;
        context->TryCancel();
        break;
      }
      mode = mode_;
      ttl = ttl_;
    }
    if (mode == Mode::kSilent) continue;
    etcdserverpb::LeaseKeepAliveResponse response;
    response.mutable_header()->set_revision(1);
    response.set_id(request.id());
    response.set_ttl(mode == Mode::kTtlZero ? 0 : ttl);
    if (!stream->Write(response)) break;
  }
  internal::MutexLock lock(&mu_);
  open_.erase(context);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake etcd dropped the stream");
}

grpc::Status FakeLeaseService::LeaseGrant(grpc::ServerContext* /*context*/,
                                          const etcdserverpb::LeaseGrantRequest* request,
                                          etcdserverpb::LeaseGrantResponse* response) {
  internal::MutexLock lock(&mu_);
  response->mutable_header()->set_revision(1);
  response->set_id(request->id() != 0 ? request->id() : next_id_++);
  response->set_ttl(request->ttl());
  return grpc::Status::OK;
}

grpc::Status FakeLeaseService::LeaseRevoke(grpc::ServerContext* /*context*/,
                                           const etcdserverpb::LeaseRevokeRequest* /*request*/,
                                           etcdserverpb::LeaseRevokeResponse* response) {
  response->mutable_header()->set_revision(1);
  return grpc::Status::OK;
}

void FakeKvService::Set(std::map<std::string, std::string> kvs, int64_t revision) {
  internal::MutexLock lock(&mu_);
  kvs_ = std::move(kvs);
  revision_ = revision;
}

int64_t FakeKvService::revision() {
  internal::MutexLock lock(&mu_);
  return revision_;
}

grpc::Status FakeKvService::Range(grpc::ServerContext* /*context*/,
                                  const etcdserverpb::RangeRequest* request,
                                  etcdserverpb::RangeResponse* response) {
  internal::MutexLock lock(&mu_);
  response->mutable_header()->set_revision(revision_);
  for (const auto& [key, value] : kvs_) {
    const bool in_range = request->range_end().empty()
                              ? key == request->key()
                              : key >= request->key() && key < request->range_end();
    if (!in_range) continue;
    mvccpb::KeyValue* kv = response->add_kvs();
    kv->set_key(key);
    kv->set_value(value);
    kv->set_create_revision(1);
    kv->set_mod_revision(1);
    kv->set_version(1);
  }
  response->set_count(response->kvs_size());
  return grpc::Status::OK;
}

grpc::Status FakeKvService::Txn(grpc::ServerContext* /*context*/,
                                const etcdserverpb::TxnRequest* request,
                                etcdserverpb::TxnResponse* response) {
  internal::MutexLock lock(&mu_);
  response->mutable_header()->set_revision(++revision_);
  response->set_succeeded(true);
  for (const etcdserverpb::RequestOp& op : request->success()) {
    etcdserverpb::ResponseOp* result = response->add_responses();
    if (op.has_request_put()) {
      result->mutable_response_put()->mutable_header()->set_revision(revision_);
    } else if (op.has_request_delete_range()) {
      result->mutable_response_delete_range()->mutable_header()->set_revision(revision_);
    } else {
      result->mutable_response_range()->mutable_header()->set_revision(revision_);
    }
  }
  return grpc::Status::OK;
}

std::vector<etcdserverpb::WatchRequest> FakeWatchService::requests(size_t stream) {
  internal::MutexLock lock(&mu_);
  if (stream >= requests_.size()) return {};
  return requests_[stream];
}

bool FakeWatchService::WaitForRequests(size_t stream, size_t n, absl::Duration timeout) {
  internal::MutexLock lock(&mu_);
  return requests_cv_.WaitUntil(mu_, internal::MonoNow() + timeout,
                                [this, stream, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                  return stream < requests_.size() && requests_[stream].size() >= n;
                                });
}

bool FakeWatchService::Send(const etcdserverpb::WatchResponse& response) {
  internal::MutexLock lock(&mu_);
  if (stream_ == nullptr) return false;
  return stream_->Write(response);
}

void FakeWatchService::DropStream() {
  internal::MutexLock lock(&mu_);
  if (context_ != nullptr) context_->TryCancel();
}

void FakeWatchService::set_answer_progress(int64_t revision) {
  internal::MutexLock lock(&mu_);
  answer_progress_ = revision;
}

void FakeMaintenanceService::set_version(std::string version) {
  internal::MutexLock lock(&mu_);
  version_ = std::move(version);
}

int FakeMaintenanceService::status_calls() {
  internal::MutexLock lock(&mu_);
  return status_calls_;
}

grpc::Status FakeMaintenanceService::Status(grpc::ServerContext* /*context*/,
                                            const etcdserverpb::StatusRequest* /*request*/,
                                            etcdserverpb::StatusResponse* response) {
  internal::MutexLock lock(&mu_);
  ++status_calls_;
  response->set_version(version_);
  return grpc::Status::OK;
}

int FakeWatchService::streams_opened() {
  internal::MutexLock lock(&mu_);
  return static_cast<int>(requests_.size());
}

grpc::Status FakeWatchService::Watch(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<etcdserverpb::WatchResponse, etcdserverpb::WatchRequest>* stream) {
  size_t index;
  {
    internal::MutexLock lock(&mu_);
    index = requests_.size();
    requests_.emplace_back();
    requests_cv_.Notify();
    context_ = context;
    stream_ = stream;
  }
  etcdserverpb::WatchRequest request;
  while (stream->Read(&request)) {
    internal::MutexLock lock(&mu_);
    requests_[index].push_back(request);
    requests_cv_.Notify();
    if (request.has_progress_request() && answer_progress_ > 0) {
      etcdserverpb::WatchResponse progress;
      progress.mutable_header()->set_revision(answer_progress_);
      progress.set_watch_id(-1);
      stream->Write(progress);
    }
  }
  internal::MutexLock lock(&mu_);
  if (stream_ == stream) {
    stream_ = nullptr;
    context_ = nullptr;
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake etcd dropped the stream");
}

absl::StatusOr<std::unique_ptr<FakeEtcd>> FakeEtcd::Start() {
  std::unique_ptr<FakeEtcd> fake(new FakeEtcd());
  int port = 0;
  grpc::ServerBuilder builder;
  // Accept keepalive pings as etcd does (--grpc-keepalive-min-time 5 s): gRPC
  // C++ servers refuse pings without data more often than every 5 minutes.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&fake->lease_);
  builder.RegisterService(&fake->watch_);
  builder.RegisterService(&fake->maintenance_);
  builder.RegisterService(&fake->kv_);
  fake->server_ = builder.BuildAndStart();
  if (fake->server_ == nullptr || port == 0) {
    return absl::InternalError("cannot start the fake etcd server on 127.0.0.1");
  }
  fake->endpoint_ = absl::StrCat("127.0.0.1:", port);
  return fake;
}

FakeEtcd::~FakeEtcd() {
  lease_.DropStreams();
  watch_.DropStream();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

}  // namespace etcdgrpc::testing
