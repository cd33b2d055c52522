#include "fake_etcd.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace etcdgrpc::testing {

void FakeLeaseService::set_mode(Mode mode) {
  absl::MutexLock lock(&mu_);
  mode_ = mode;
}

void FakeLeaseService::set_ttl(int64_t ttl) {
  absl::MutexLock lock(&mu_);
  ttl_ = ttl;
}

void FakeLeaseService::DropStreams() {
  absl::MutexLock lock(&mu_);
  for (grpc::ServerContext* context : open_) context->TryCancel();
}

void FakeLeaseService::DropOnNextRequest() {
  absl::MutexLock lock(&mu_);
  drop_on_next_ = true;
}

int FakeLeaseService::streams_opened() {
  absl::MutexLock lock(&mu_);
  return streams_opened_;
}

std::map<int64_t, std::vector<absl::Time>> FakeLeaseService::requests() {
  absl::MutexLock lock(&mu_);
  return requests_;
}

bool FakeLeaseService::WaitForRequests(int64_t id, size_t n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, id, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = requests_.find(id);
    return it != requests_.end() && it->second.size() >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

grpc::Status FakeLeaseService::LeaseKeepAlive(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse,
                             etcdserverpb::LeaseKeepAliveRequest>* stream) {
  {
    absl::MutexLock lock(&mu_);
    ++streams_opened_;
    open_.insert(context);
  }
  etcdserverpb::LeaseKeepAliveRequest request;
  while (stream->Read(&request)) {
    Mode mode;
    int64_t ttl;
    {
      absl::MutexLock lock(&mu_);
      requests_[request.id()].push_back(absl::Now());
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
  absl::MutexLock lock(&mu_);
  open_.erase(context);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake etcd dropped the stream");
}

absl::StatusOr<std::unique_ptr<FakeEtcd>> FakeEtcd::Start() {
  std::unique_ptr<FakeEtcd> fake(new FakeEtcd());
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&fake->lease_);
  fake->server_ = builder.BuildAndStart();
  if (fake->server_ == nullptr || port == 0) {
    return absl::InternalError("cannot start the fake etcd server on 127.0.0.1");
  }
  fake->endpoint_ = absl::StrCat("127.0.0.1:", port);
  return fake;
}

FakeEtcd::~FakeEtcd() {
  lease_.DropStreams();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

}  // namespace etcdgrpc::testing
