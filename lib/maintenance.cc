// The Maintenance facade's unary calls (status, alarms, defragment, hashes,
// move-leader) and Client::Status, which shares its implementation. The
// snapshot stream is in maintenance_snapshot.cc.
#include "etcdgrpc/maintenance.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "lib/internal/client_core.h"
#include "lib/internal/kv_codec.h"
#include "lib/internal/maintenance_endpoint.h"
#include "lib/internal/unary_call.h"

namespace etcdgrpc {

namespace internal {

absl::StatusOr<size_t> EndpointIndex(Connection& connection, std::string_view endpoint) {
  if (connection.closed()) return ClosedError();
  absl::StatusOr<Endpoint> parsed = ParseEndpoint(std::string(endpoint));
  if (!parsed.ok()) return parsed.status();
  for (size_t i = 0; i < connection.size(); ++i) {
    if (connection.endpoint(i).address == parsed->address) return i;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("endpoint ", std::string(endpoint), " is not one of the client's endpoints"));
}

}  // namespace internal

namespace {

AlarmResult ParseAlarms(etcdserverpb::AlarmResponse& response) {
  AlarmResult result;
  result.header = internal::ParseHeader(response.header());
  for (const etcdserverpb::AlarmMember& alarm : response.alarms()) {
    result.alarms.push_back(
        {.member_id = alarm.memberid(), .alarm = static_cast<AlarmType>(alarm.alarm())});
  }
  return result;
}

ResponseHeader ParseDefragment(etcdserverpb::DefragmentResponse& response) {
  return internal::ParseHeader(response.header());
}

HashResult ParseHash(etcdserverpb::HashResponse& response) {
  return {.header = internal::ParseHeader(response.header()), .hash = response.hash()};
}

HashKVResult ParseHashKV(etcdserverpb::HashKVResponse& response) {
  return {.header = internal::ParseHeader(response.header()),
          .hash = response.hash(),
          .compact_revision = response.compact_revision()};
}

etcdserverpb::AlarmRequest DisarmRequest(const AlarmMember& alarm) {
  etcdserverpb::AlarmRequest request;
  request.set_action(etcdserverpb::AlarmRequest::DEACTIVATE);
  request.set_memberid(alarm.member_id);
  request.set_alarm(static_cast<etcdserverpb::AlarmType>(alarm.alarm));
  return request;
}

absl::Status CheckDisarm(const AlarmMember& alarm) {
  if (alarm.member_id == 0 || alarm.alarm == AlarmType::kNone) {
    return absl::InvalidArgumentError(
        "AlarmDisarm needs a member id and an alarm type (AlarmDisarmAll disarms every alarm)");
  }
  return absl::OkStatus();
}

absl::Status CheckRevision(int64_t revision) {
  if (revision < 0) {
    return absl::InvalidArgumentError(absl::StrCat("negative revision ", revision));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view AlarmTypeName(AlarmType type) {
  switch (type) {
    case AlarmType::kNone:
      return "NONE";
    case AlarmType::kNoSpace:
      return "NOSPACE";
    case AlarmType::kCorrupt:
      return "CORRUPT";
  }
  return "UNKNOWN";
}

Maintenance::Maintenance(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}

Maintenance Client::maintenance() { return Maintenance(core_); }

absl::StatusOr<EndpointStatus> Client::Status(std::string_view endpoint) {
  return maintenance().Status(endpoint);
}

absl::StatusOr<EndpointStatus> Maintenance::Status(std::string_view endpoint) {
  internal::Connection& connection = *core_->connection;
  absl::StatusOr<size_t> index = internal::EndpointIndex(connection, endpoint);
  if (!index.ok()) return index.status();
  auto response = internal::CallUnary(connection, internal::kStatusRpc,
                                      etcdserverpb::StatusRequest(), {.endpoint = *index});
  if (!response.ok()) return response.status();
  return internal::ParseStatusResponse(connection.endpoint(*index).address, *response);
}

void Maintenance::StatusAsync(std::string_view endpoint, Callback<EndpointStatus> done) {
  internal::Connection& connection = *core_->connection;
  absl::StatusOr<size_t> index = internal::EndpointIndex(connection, endpoint);
  if (!index.ok()) return std::move(done)(index.status());
  internal::CallUnaryAsync(
      connection, *core_->async_calls, internal::kStatusRpc, etcdserverpb::StatusRequest(),
      [address = connection.endpoint(*index).address](etcdserverpb::StatusResponse& response) {
        return internal::ParseStatusResponse(address, response);
      },
      std::move(done), {.endpoint = *index});
}

absl::StatusOr<AlarmResult> Maintenance::AlarmList() {
  etcdserverpb::AlarmRequest request;
  request.set_action(etcdserverpb::AlarmRequest::GET);
  auto response = internal::CallUnary(*core_->connection, internal::kAlarmRpc, request);
  if (!response.ok()) return response.status();
  return ParseAlarms(*response);
}

void Maintenance::AlarmListAsync(Callback<AlarmResult> done) {
  etcdserverpb::AlarmRequest request;
  request.set_action(etcdserverpb::AlarmRequest::GET);
  internal::CallUnaryAsync(*core_->connection, *core_->async_calls, internal::kAlarmRpc,
                           std::move(request), ParseAlarms, std::move(done));
}

absl::StatusOr<AlarmResult> Maintenance::AlarmDisarm(const AlarmMember& alarm) {
  if (absl::Status s = CheckDisarm(alarm); !s.ok()) return s;
  auto response = internal::CallUnary(*core_->connection, internal::kAlarmRpc, DisarmRequest(alarm),
                                      {.retry = internal::Retry::kWrite});
  if (!response.ok()) return response.status();
  return ParseAlarms(*response);
}

void Maintenance::AlarmDisarmAsync(const AlarmMember& alarm, Callback<AlarmResult> done) {
  if (absl::Status s = CheckDisarm(alarm); !s.ok()) return std::move(done)(std::move(s));
  internal::CallUnaryAsync(*core_->connection, *core_->async_calls, internal::kAlarmRpc,
                           DisarmRequest(alarm), ParseAlarms, std::move(done),
                           {.retry = internal::Retry::kWrite});
}

absl::StatusOr<AlarmResult> Maintenance::AlarmDisarmAll() {
  absl::StatusOr<AlarmResult> listed = AlarmList();
  if (!listed.ok()) return listed.status();
  AlarmResult result;
  for (const AlarmMember& alarm : listed->alarms) {
    absl::StatusOr<AlarmResult> disarmed = AlarmDisarm(alarm);
    if (!disarmed.ok()) return disarmed.status();
    result.alarms.insert(result.alarms.end(), disarmed->alarms.begin(), disarmed->alarms.end());
  }
  return result;
}

absl::StatusOr<ResponseHeader> Maintenance::Defragment(std::string_view endpoint) {
  absl::StatusOr<size_t> index = internal::EndpointIndex(*core_->connection, endpoint);
  if (!index.ok()) return index.status();
  auto response = internal::CallUnary(*core_->connection, internal::kDefragmentRpc,
                                      etcdserverpb::DefragmentRequest(), {.endpoint = *index});
  if (!response.ok()) return response.status();
  return ParseDefragment(*response);
}

void Maintenance::DefragmentAsync(std::string_view endpoint, Callback<ResponseHeader> done) {
  absl::StatusOr<size_t> index = internal::EndpointIndex(*core_->connection, endpoint);
  if (!index.ok()) return std::move(done)(index.status());
  internal::CallUnaryAsync(*core_->connection, *core_->async_calls, internal::kDefragmentRpc,
                           etcdserverpb::DefragmentRequest(), ParseDefragment, std::move(done),
                           {.endpoint = *index});
}

absl::StatusOr<HashResult> Maintenance::Hash(std::string_view endpoint) {
  absl::StatusOr<size_t> index = internal::EndpointIndex(*core_->connection, endpoint);
  if (!index.ok()) return index.status();
  auto response = internal::CallUnary(*core_->connection, internal::kHashRpc,
                                      etcdserverpb::HashRequest(), {.endpoint = *index});
  if (!response.ok()) return response.status();
  return ParseHash(*response);
}

void Maintenance::HashAsync(std::string_view endpoint, Callback<HashResult> done) {
  absl::StatusOr<size_t> index = internal::EndpointIndex(*core_->connection, endpoint);
  if (!index.ok()) return std::move(done)(index.status());
  internal::CallUnaryAsync(*core_->connection, *core_->async_calls, internal::kHashRpc,
                           etcdserverpb::HashRequest(), ParseHash, std::move(done),
                           {.endpoint = *index});
}

absl::StatusOr<HashKVResult> Maintenance::HashKV(std::string_view endpoint, int64_t revision) {
  if (absl::Status s = CheckRevision(revision); !s.ok()) return s;
  absl::StatusOr<size_t> index = internal::EndpointIndex(*core_->connection, endpoint);
  if (!index.ok()) return index.status();
  etcdserverpb::HashKVRequest request;
  request.set_revision(revision);
  auto response =
      internal::CallUnary(*core_->connection, internal::kHashKVRpc, request, {.endpoint = *index});
  if (!response.ok()) return response.status();
  return ParseHashKV(*response);
}

void Maintenance::HashKVAsync(std::string_view endpoint, int64_t revision,
                              Callback<HashKVResult> done) {
  if (absl::Status s = CheckRevision(revision); !s.ok()) return std::move(done)(std::move(s));
  absl::StatusOr<size_t> index = internal::EndpointIndex(*core_->connection, endpoint);
  if (!index.ok()) return std::move(done)(index.status());
  etcdserverpb::HashKVRequest request;
  request.set_revision(revision);
  internal::CallUnaryAsync(*core_->connection, *core_->async_calls, internal::kHashKVRpc,
                           std::move(request), ParseHashKV, std::move(done), {.endpoint = *index});
}

absl::StatusOr<MoveLeaderResult> Maintenance::MoveLeader(uint64_t transferee) {
  if (transferee == 0) return absl::InvalidArgumentError("transferee member id 0 is not valid");
  internal::Connection& connection = *core_->connection;
  // etcd refuses MoveLeader anywhere but on the leader ("etcdserver: not
  // leader"): ask each endpoint about itself, as etcdctl does, and send it to
  // the one that leads. A member that does not answer fails the call, as in
  // etcdctl: the leader might be that one.
  for (size_t i = 0; i < connection.size(); ++i) {
    auto status = internal::CallUnary(connection, internal::kStatusRpc,
                                      etcdserverpb::StatusRequest(), {.endpoint = i});
    if (!status.ok()) return status.status();
    if (status->leader() == 0 || status->leader() != status->header().member_id()) continue;
    etcdserverpb::MoveLeaderRequest request;
    request.set_targetid(transferee);
    auto response =
        internal::CallUnary(connection, internal::kMoveLeaderRpc, request, {.endpoint = i});
    if (!response.ok()) return response.status();
    return MoveLeaderResult{.header = internal::ParseHeader(response->header()),
                            .from = status->leader(),
                            .to = transferee};
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no leader endpoint given at [", absl::StrJoin(connection.addresses(), " "), "]"));
}

}  // namespace etcdgrpc
