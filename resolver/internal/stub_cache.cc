// StubCache (etcdgrpc/resolver/call_engine.h): one generated stub per
// channel. Building a stub per call registers each of its methods with the
// channel again (grpc_channel_register_call); docs/calls.md has the figures.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "common/mutex.h"
#include "etcdgrpc/resolver/call_engine.h"

namespace etcdgrpc::resolver::call_engine {

using ::etcdgrpc::internal::Mutex;
using ::etcdgrpc::internal::MutexLock;

struct StubCache::State {
  struct Entry {
    // Says whether the key still names the channel the stub was made on: a
    // freed channel's address may be reused by a new one.
    std::weak_ptr<grpc::Channel> channel;
    std::shared_ptr<void> stub;
  };
  mutable Mutex mu;
  absl::flat_hash_map<const grpc::Channel*, Entry> entries ABSL_GUARDED_BY(mu);
  // Stubs of channels that are gone are dropped when the map reaches this.
  size_t sweep_at ABSL_GUARDED_BY(mu) = 16;
};

StubCache::StubCache(Factory factory) : factory_(factory), state_(std::make_unique<State>()) {}
StubCache::~StubCache() = default;

std::shared_ptr<void> StubCache::Get(const std::shared_ptr<grpc::Channel>& channel) {
  {
    MutexLock lock(&state_->mu);
    auto it = state_->entries.find(channel.get());
    // Not expired: the entry's channel is alive, so it is this one.
    if (it != state_->entries.end() && !it->second.channel.expired()) return it->second.stub;
  }
  // Made outside the lock (it registers methods with the channel). The stub
  // must not own its channel, or the cache would keep every endpoint's
  // channel alive: an aliasing pointer with no owner.
  std::shared_ptr<void> stub =
      factory_(std::shared_ptr<grpc::ChannelInterface>(std::shared_ptr<void>(), channel.get()));
  MutexLock lock(&state_->mu);
  auto& entries = state_->entries;
  if (entries.size() >= state_->sweep_at) {
    absl::erase_if(entries, [](const auto& entry) { return entry.second.channel.expired(); });
    state_->sweep_at = std::max<size_t>(16, 2 * entries.size());
  }
  auto [it, inserted] = entries.try_emplace(channel.get());
  if (!inserted && !it->second.channel.expired()) return it->second.stub;  // another thread's
  it->second = State::Entry{channel, stub};
  return stub;
}

size_t StubCache::size() const {
  MutexLock lock(&state_->mu);
  return state_->entries.size();
}

}  // namespace etcdgrpc::resolver::call_engine
