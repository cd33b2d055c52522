// LocalEtcd: starts throwaway etcd processes on free 127.0.0.1 ports in a temp dir, for the
// integration tests, the benchmarks and the demo. Deliberately free of GoogleTest.
#ifndef ETCDGRPC_TESTS_SUPPORT_LOCAL_ETCD_H_
#define ETCDGRPC_TESTS_SUPPORT_LOCAL_ETCD_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fault_proxy.h"

namespace etcdgrpc::testing {

// Serving the client URLs over TLS (https://); peer URLs stay plaintext. TestCerts::ServerTls()
// (test_certs.h) fills this in with certificates made at test time.
struct LocalEtcdTlsOptions {
  // Server certificate and key (--cert-file, --key-file), valid for 127.0.0.1.
  std::string cert_file = {};
  std::string key_file = {};
  // The CA that signed cert_file: the readiness probe verifies the server with it.
  std::string ca_file = {};
  // --client-cert-auth with --trusted-ca-file=client_ca_file (ca_file when empty): etcd refuses
  // clients without a certificate signed by that CA.
  bool client_cert_auth = false;
  std::string client_ca_file = {};
  // The client certificate and key the readiness probe presents (needed with client_cert_auth).
  std::string probe_cert_file = {};
  std::string probe_key_file = {};
};

struct LocalEtcdOptions {
  // Number of cluster members (1 or 3 in practice; any n >= 1 works).
  int members = 1;
  // Appended to every member's command line, e.g. "--max-request-bytes=2048",
  // "--auth-token=simple", "--auth-token-ttl=2".
  std::vector<std::string> extra_flags;
  std::string etcd_binary = "/usr/bin/etcd";
  // Bounds Start() as a whole (including port retries) and each Restart().
  absl::Duration start_timeout = absl::Seconds(30);
  // --unsafe-no-fsync: the data is thrown away anyway and fsync dominates write latency.
  bool unsafe_no_fsync = true;
  // Where the temp dir is created; empty means $TMPDIR, else /tmp.
  std::string temp_parent;
  // Append the tail of the etcd logs to errors from Start()/Restart()/WaitReady().
  bool keep_logs_on_failure = true;
  // Set: client URLs are https:// (ClientEndpoints() says so) and the probes use TLS.
  std::optional<LocalEtcdTlsOptions> tls = std::nullopt;
  // A FaultProxy (fault_proxy.h) in front of each member's client port and one in front of its
  // peer port, so tests can black-hole, delay, reset and partition members. Clients get the
  // proxied addresses (ClientEndpoints()); members advertise and dial the proxied peer URLs.
  bool fault_proxies = false;
};

// A running etcd cluster of `members` processes, each in its own process group, with its
// data dir and log file under one temp dir "<parent>/etcdgrpc-etcd-<pid>-XXXXXX".
//
// Lifetime: the destructor SIGKILLs and reaps every member and removes the temp dir. If the
// owning process dies without running it, the members die too (PR_SET_PDEATHSIG) and the
// next Start() in any process sweeps the temp dirs left behind by dead pids.
//
// Threads: PR_SET_PDEATHSIG fires when the *thread* that forked exits, not the process, so
// Start() and Restart() must be called from a thread that outlives the members (the main
// thread, or a test's thread that also destroys the LocalEtcd). The class is not
// thread-safe; call it from one thread at a time.
class LocalEtcd {
 public:
  // Starts all members and waits until each answers Maintenance.Status and a leader exists.
  // Retries with new ports if a port was taken in the meantime.
  static absl::StatusOr<std::unique_ptr<LocalEtcd>> Start(LocalEtcdOptions options = {});

  LocalEtcd(const LocalEtcd&) = delete;
  LocalEtcd& operator=(const LocalEtcd&) = delete;
  // SIGKILLs and reaps all members, removes the temp dir. Never throws; every wait is bounded.
  ~LocalEtcd();

  int size() const;
  // "127.0.0.1:PORT" ("https://127.0.0.1:PORT" with options.tls) of every member, in member
  // order; with options.fault_proxies the address of the member's client proxy. These are
  // also the members' advertised client URLs.
  std::vector<std::string> ClientEndpoints() const;
  std::string ClientEndpoint(int member) const;
  // The member's own client port, bypassing its proxy (the same as ClientEndpoint() without
  // fault_proxies). The fixture's readiness and leader checks use it.
  std::string DirectClientEndpoint(int member) const;
  // Comma-joined client endpoints, for --endpoints=.
  std::string EndpointsFlag() const;
  // The advertised peer URL that the other members dial (the peer proxy with fault_proxies).
  std::string PeerUrl(int member) const;
  // The member's own peer listener (--listen-peer-urls).
  std::string DirectPeerUrl(int member) const;
  // The member's raft id (Maintenance.Status header.member_id), learned at Start(); it stays
  // the same across restarts. Printed in hex it is what etcd sends as X-Server-From.
  uint64_t MemberId(int member) const;
  std::string DataDir(int member) const;
  std::string LogPath(int member) const;
  // The temp dir holding all data dirs and logs.
  std::string TempDir() const;
  // 0 when the member is not running.
  pid_t Pid(int member) const;
  // True while the process exists (including while paused).
  bool IsRunning(int member) const;

  // SIGTERM, then wait (SIGKILL if it has not exited after a few seconds).
  absl::Status Stop(int member);
  // SIGKILL, then wait.
  absl::Status Kill(int member);
  // Starts the member again with the same name, ports and data dir (stopping it first if it
  // is running) and waits until it answers Status. A cluster member only answers once it can
  // reach a quorum: to bring back a majority at once, use RestartAll().
  absl::Status Restart(int member);
  // Starts every member that is not running, then waits until all answer and a leader exists.
  absl::Status RestartAll();
  // SIGSTOP / SIGCONT: the member keeps its sockets but stops answering.
  absl::Status Pause(int member);
  absl::Status Resume(int member);
  // Waits until Maintenance.Status answers on the member's client port. Fails early if the
  // process exits.
  absl::Status WaitReady(int member, absl::Duration timeout);
  // Index of the leader: the answering member whose StatusResponse.leader is its own id, and
  // which a majority of all members report as leader.
  absl::StatusOr<int> Leader(absl::Duration timeout = absl::Seconds(10));
  // Waits until the cluster has settled after a fault: every running member
  // that is not paused answers and names the same leader in the same term,
  // twice `quiet` apart (a member back from a partition with a higher term
  // forces an election a moment after it rejoins). Returns the leader.
  absl::StatusOr<int> Settled(absl::Duration timeout, absl::Duration quiet = absl::Seconds(1));
  // Stops every running member like Stop(); data dirs and logs stay until destruction.
  absl::Status StopAll();

  // Members added at run time (Cluster.MemberAdd; not with fault_proxies).
  // PrepareAddedMember() gives the next member index a name ("m<i>"), free ports and a data
  // dir without starting it; PeerUrl(i) is the URL to add it with. StartAddedMember() starts
  // it with --initial-cluster-state=existing and `initial_cluster` ("name=url,...", what
  // `member add` prints as ETCD_INITIAL_CLUSTER) and waits until it answers Status.
  absl::StatusOr<int> PrepareAddedMember();
  absl::Status StartAddedMember(int member, const std::string& initial_cluster);

  // Fault injection; everything below needs options.fault_proxies. The proxies keep their
  // ports and settings across Stop()/Restart() and are destroyed after the members are
  // killed. The accessors abort (with a message) on a bad index or without fault_proxies;
  // the convenience methods return FAILED_PRECONDITION / INVALID_ARGUMENT instead.
  FaultProxy& ClientProxy(int member);
  FaultProxy& PeerProxy(int member);
  // Client traffic of the member stops in both directions; connections stay open, new ones
  // are accepted, calls hang until their deadline. With kDrop, connections that lost bytes
  // are reset when PassClient() is called (gRPC then reconnects); with kStall they resume.
  absl::Status BlackHoleClient(int member, BlackHole mode = BlackHole::kDrop);
  // Adds `delay` to the member's responses (server->client) only, so each unary call takes
  // about `delay` longer; requests are not delayed.
  absl::Status DelayClient(int member, absl::Duration delay);
  // Closes the member's client connections with RST; with refuse_new, new ones too until
  // PassClient().
  absl::Status ResetClient(int member, bool refuse_new = false);
  // Back to a plain proxy (no black hole, delay, throttle, reset).
  absl::Status PassClient(int member);
  // Cuts the member off from its peers in both directions: its own peer proxy black-holes
  // (drops) everything it receives, and every other member's peer proxy drops the
  // connections whose requests carry X-Server-From: <this member's id>. Existing
  // connections included; the other members keep talking to each other. Client traffic is
  // not affected (use BlackHoleClient()).
  absl::Status Partition(int member);
  // Ends Partition(member); connections that lost bytes are reset so raft reconnects at once.
  absl::Status Heal(int member);
  absl::Status HealAll();

 private:
  static constexpr int kLogTailLines = 30;

  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    uint64_t member_id = 0;
    // With options_.fault_proxies (else null).
    std::unique_ptr<FaultProxy> client_proxy;
    std::unique_ptr<FaultProxy> peer_proxy;
    std::string data_dir;
    std::string log_path;
    // Set for a member added at run time: it joins the existing cluster with this list.
    std::string existing_cluster;
    pid_t pid = 0;
    bool paused = false;
    // Set when the process was reaped: the raw wait status, for error messages.
    int last_wait_status = 0;
    bool exited = false;
  };

  explicit LocalEtcd(LocalEtcdOptions options);

  absl::Status CheckMember(int member) const;
  absl::Status LaunchAttempt(absl::Time deadline);
  absl::Status Spawn(int member);
  // Reaps the member without blocking if it has exited; returns true if it is (still) running.
  bool Poll(int member) const;
  // Sends `sig` (if not yet exited) and waits up to `timeout` for the process to exit.
  bool SignalAndWait(int member, int sig, absl::Duration timeout);
  void KillAllNow();
  absl::Status WaitAllReady(absl::Time deadline);
  absl::StatusOr<int> LeaderUntil(absl::Time deadline);
  std::string DescribeMember(int member) const;
  std::string ExitDescription(int member) const;
  // The last `max_lines` lines of the member's log (plus earlier error lines), or "" when
  // options_.keep_logs_on_failure is off.
  std::string LogTail(int member, int max_lines = kLogTailLines) const;
  std::vector<std::string> BuildArgs(int member) const;
  absl::Status CheckProxies(int member) const;
  absl::Status StartProxies();
  // Sets every peer proxy's rules from partitioned_.
  void ApplyPartitions();

  LocalEtcdOptions options_;
  std::string temp_dir_;
  std::string cluster_token_;
  // mutable: observing a member reaps it when it has exited, which updates its state.
  mutable std::vector<Member> members_;
  std::set<int> partitioned_;
};

// Users and roles of an auth-enabled etcd (EnableAuth()).
struct LocalEtcdAuth {
  std::string root_password = "root-secret";
  // A user with one role, granted readwrite on every key starting with `prefix`.
  std::string user = "svc";
  std::string user_password = "svc-secret";
  std::string role = "services-rw";
  std::string prefix = "/services/";
};

// Creates the root user (with the root role), `auth.user` with `auth.role` (readwrite on
// `auth.prefix`, like `etcdctl role grant-permission --prefix=true ROLE readwrite PREFIX`),
// then `auth enable`, through the client's Auth facade on member 0 (plaintext endpoints only).
// Call once after Start(). With "--auth-token-ttl=N" in LocalEtcdOptions::extra_flags, simple
// tokens expire after N idle seconds; a restarted member forgets them.
absl::Status EnableAuth(const LocalEtcd& etcd, const LocalEtcdAuth& auth = {});

}  // namespace etcdgrpc::testing

#endif  // ETCDGRPC_TESTS_SUPPORT_LOCAL_ETCD_H_
