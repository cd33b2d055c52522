// kv_demo: uses the etcd in ETCD_ENDPOINTS (tests/support's
// etcdgrpc-with-etcd starts a throwaway one), then walks through the typed KV API: put, get,
// prefix ranges, a transaction, history reads, compaction and clear errors.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "etcdgrpc/client.h"
#include "etcdgrpc/errors.h"

namespace {

using etcdgrpc::Client;
using etcdgrpc::Compare;
using etcdgrpc::KeyRange;
using etcdgrpc::Op;

void Step(const char* what) { std::printf("\n--- %s\n", what); }

template <class T>
bool Check(const absl::StatusOr<T>& result) {
  if (result.ok()) return true;
  std::printf("  unexpected error: %s\n", result.status().ToString().c_str());
  return false;
}

int Run() {
  etcdgrpc::ClientOptions options;
  const char* endpoints = std::getenv("ETCD_ENDPOINTS");
  if (endpoints == nullptr || *endpoints == '\0') {
    std::printf(
        "set ETCD_ENDPOINTS (e.g. 127.0.0.1:2379), or run ./dev demo, which starts a throwaway "
        "etcd\n");
    return 2;
  }
  options.endpoints = absl::StrSplit(endpoints, ',', absl::SkipEmpty());
  std::printf("using etcd at %s (ETCD_ENDPOINTS)\n", endpoints);

  auto client = Client::Connect(options);
  if (!Check(client)) return 1;
  Client& etcd = **client;
  const std::string prefix = "/demo/kv/";

  Step("Put three keys");
  int64_t first_revision = 0;
  for (const char* name : {"alpha", "beta", "gamma"}) {
    auto put = etcd.Put(prefix + name, std::string("value of ") + name);
    if (!Check(put)) return 1;
    if (first_revision == 0) first_revision = put->header.revision;
    std::printf("  put %s%s at revision %lld\n", prefix.c_str(), name,
                static_cast<long long>(put->header.revision));
  }

  Step("Get one key");
  auto one = etcd.Get(prefix + "beta");
  if (!Check(one)) return 1;
  for (const auto& kv : one->kvs) {
    std::printf("  %s = %s (created at %lld, version %lld)\n", kv.key.c_str(), kv.value.c_str(),
                static_cast<long long>(kv.create_revision), static_cast<long long>(kv.version));
  }

  Step("Get the prefix, newest first, at most 2");
  etcdgrpc::GetOptions newest;
  newest.limit = 2;
  newest.sort_order = etcdgrpc::SortOrder::kDescend;
  newest.sort_target = etcdgrpc::SortTarget::kMod;
  auto range = etcd.Range(KeyRange::Prefix(prefix), newest);
  if (!Check(range)) return 1;
  for (const auto& kv : range->kvs) std::printf("  %s\n", kv.key.c_str());
  std::printf("  %lld keys match, more=%s\n", static_cast<long long>(range->count),
              range->more ? "true" : "false");

  Step("Transaction: create 'delta' only if it does not exist (twice)");
  for (int attempt = 1; attempt <= 2; ++attempt) {
    etcdgrpc::TxnRequest txn;
    txn.If(Compare::CreateRevision(prefix + "delta").Equal(0))
        .Then(Op::Put(prefix + "delta", "created by txn"))
        .Else(Op::Get(prefix + "delta"));
    auto result = etcd.Txn(txn);
    if (!Check(result)) return 1;
    std::printf("  attempt %d: %s\n", attempt,
                result->succeeded ? "created" : "already there, read it instead");
  }

  Step("Read history: 'alpha' as of its first revision after an update");
  if (!Check(etcd.Put(prefix + "alpha", "updated"))) return 1;
  etcdgrpc::GetOptions at_first;
  at_first.revision = first_revision;
  auto old = etcd.Get(prefix + "alpha", at_first);
  if (!Check(old)) return 1;
  std::printf("  at revision %lld: %s\n", static_cast<long long>(first_revision),
              old->kvs.empty() ? "(absent)" : old->kvs[0].value.c_str());

  Step("Compact, then ask for the compacted revision");
  auto now = etcd.Get(prefix + "alpha");
  if (!Check(now)) return 1;
  if (!Check(etcd.Compact(now->header.revision))) return 1;
  auto gone = etcd.Get(prefix + "alpha", at_first);
  std::printf("  error as expected: %s\n", gone.status().ToString().c_str());
  std::printf("  IsCompacted: %s\n", etcdgrpc::IsCompacted(gone.status()) ? "yes" : "no");

  Step("Bad input is refused before anything is sent");
  std::printf("  empty key: %s\n", etcd.Put("", "x").status().ToString().c_str());
  std::printf("  reversed range: %s\n",
              etcd.Range(KeyRange::Between("b", "a")).status().ToString().c_str());

  Step("Delete the prefix");
  etcdgrpc::DeleteOptions with_prev;
  with_prev.prev_kv = true;
  auto deleted = etcd.DeleteRange(KeyRange::Prefix(prefix), with_prev);
  if (!Check(deleted)) return 1;
  std::printf("  deleted %lld keys\n", static_cast<long long>(deleted->deleted));

  std::printf("\ndone\n");
  return 0;
}

}  // namespace

int main() { return Run(); }
