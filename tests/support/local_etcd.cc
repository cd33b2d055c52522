// LocalEtcd: fork/exec of throwaway etcd members, readiness and leader checks over raw gRPC,
// bounded signal-and-reap, and temp dir cleanup (including dirs left by crashed runs).
#include "local_etcd.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "etcdgrpc/auth.h"
#include "etcdgrpc/client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "etcdserverpb/rpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "proc_stat.h"

extern char** environ;

namespace etcdgrpc::testing {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kDirPrefix = "etcdgrpc-etcd-";
// A port picked by bind(:0) can be taken by someone else before etcd binds it; retry then.
constexpr int kMaxLaunchAttempts = 4;
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);
constexpr absl::Duration kReapInterval = absl::Milliseconds(5);
constexpr absl::Duration kRpcDeadline = absl::Milliseconds(500);
constexpr absl::Duration kStopGrace = absl::Seconds(5);
constexpr absl::Duration kKillWait = absl::Seconds(5);
constexpr absl::Duration kPauseWait = absl::Seconds(2);
constexpr int kLogNotableLines = 5;
constexpr size_t kLogLineMax = 600;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string WaitStatusText(int status) {
  if (status == -1) return "exited (status unknown: reaped elsewhere)";
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = strsignal(WTERMSIG(status));
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", name ? name : "?", ")");
  }
  return absl::StrCat("ended with wait status ", status);
}

std::string TempParent(const LocalEtcdOptions& options) {
  if (!options.temp_parent.empty()) return options.temp_parent;
  const char* tmpdir = std::getenv("TMPDIR");
  if (tmpdir != nullptr && *tmpdir != '\0') return tmpdir;
  return "/tmp";
}

// Removes "etcdgrpc-etcd-<pid>-*" dirs whose <pid> is gone: a run that crashed or was killed
// never ran its destructor, and its members died with it (PDEATHSIG), so nobody uses them.
void SweepStaleDirs(const std::string& parent) {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(parent, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, kDirPrefix)) continue;
    const absl::string_view rest = absl::string_view(name).substr(kDirPrefix.size());
    const size_t dash = rest.find('-');
    if (dash == absl::string_view::npos) continue;
    int pid = 0;
    if (!absl::SimpleAtoi(rest.substr(0, dash), &pid) || pid <= 0 || pid == getpid()) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
      continue;
    }
    stale.push_back(it->path());
  }
  for (const fs::path& dir : stale) fs::remove_all(dir, ec);
}

absl::StatusOr<std::vector<int>> PickFreePorts(int count) {
  // All sockets stay bound until every port is read, so the ports are distinct.
  std::vector<int> fds;
  std::vector<int> ports;
  absl::Status status;
  for (int i = 0; i < count && status.ok(); ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      status = absl::InternalError(absl::StrCat("socket(): ", ErrnoText(errno)));
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = absl::InternalError(
          absl::StrCat("cannot pick a free port on 127.0.0.1: ", ErrnoText(errno)));
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  if (!status.ok()) return status;
  return ports;
}

std::string UniqueToken() {
  static std::atomic<int> counter{0};
  return absl::StrCat("etcdgrpc-", getpid(), "-", counter.fetch_add(1), "-",
                      absl::ToUnixNanos(absl::Now()));
}

// Moves fd to >= 3 so that the child's dup2() onto 0/1/2 cannot clobber it.
int AboveStdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

absl::StatusOr<std::string> ReadTlsFile(const std::string& what, const std::string& path) {
  std::string text;
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (text.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("LocalEtcd: cannot read the TLS ", what, " \"", path, "\""));
  }
  return text;
}

// Insecure, or with options.tls: verifying the server with tls.ca_file and presenting the
// probe's client certificate when one is given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ProbeCredentials(
    const LocalEtcdOptions& options) {
  if (!options.tls.has_value()) return grpc::InsecureChannelCredentials();
  const LocalEtcdTlsOptions& tls = *options.tls;
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadTlsFile("CA file (tls.ca_file)", tls.ca_file);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *std::move(ca);
  if (!tls.probe_cert_file.empty() || !tls.probe_key_file.empty()) {
    absl::StatusOr<std::string> cert = ReadTlsFile("probe certificate", tls.probe_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadTlsFile("probe key", tls.probe_key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

// One fresh channel per probe. A channel that has seen "connection refused" waits out gRPC's
// reconnect backoff (measured with gRPC 1.51: 10-15 s, even with small backoff arguments) long
// after etcd is up; a new channel with its own subchannel pool connects at once.
grpc::Status CallStatus(const LocalEtcdOptions& options, const std::string& endpoint,
                        absl::Duration timeout, etcdserverpb::StatusResponse* response) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Loopback traffic must not go through an http_proxy from the environment.
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = ProbeCredentials(options);
  if (!credentials.ok()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        std::string(credentials.status().message()));
  }
  absl::string_view target = endpoint;
  absl::ConsumePrefix(&target, "https://");
  auto stub = etcdserverpb::Maintenance::NewStub(
      grpc::CreateCustomChannel(std::string(target), *credentials, args));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return stub->Status(&context, etcdserverpb::StatusRequest(), response);
}

std::string GrpcStatusText(const grpc::Status& status) {
  return absl::StrCat("gRPC code ", static_cast<int>(status.error_code()), ": ",
                      status.error_message());
}

void SleepUntilNextPoll(absl::Time deadline) {
  absl::SleepFor(std::max(absl::ZeroDuration(), std::min(kPollInterval, deadline - absl::Now())));
}

// The process state letter from /proc/<pid>/stat ('T' when stopped), or 0 if unreadable.
char ProcState(pid_t pid) {
  const std::optional<std::vector<std::string>> fields = ProcStatFields(pid);
  return fields.has_value() ? fields->front().front() : 0;
}

}  // namespace

LocalEtcd::LocalEtcd(LocalEtcdOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<LocalEtcd>> LocalEtcd::Start(LocalEtcdOptions options) {
  if (options.members < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("LocalEtcd: members must be >= 1, got ", options.members));
  }
  if (access(options.etcd_binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "LocalEtcd: etcd binary ", options.etcd_binary, " is not executable: ", ErrnoText(errno),
        " (Debian: apt-get install etcd-server)"));
  }
  if (options.tls) {
    const LocalEtcdTlsOptions& tls = *options.tls;
    for (const auto& [what, path] : {std::pair{"certificate (tls.cert_file)", tls.cert_file},
                                     std::pair{"key (tls.key_file)", tls.key_file}}) {
      if (absl::Status s = ReadTlsFile(what, path).status(); !s.ok()) return s;
    }
    if (absl::Status s = ProbeCredentials(options).status(); !s.ok()) return s;
  }
  const std::string parent = TempParent(options);
  SweepStaleDirs(parent);

  std::string pattern = absl::StrCat(parent, "/", kDirPrefix, getpid(), "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("LocalEtcd: mkdtemp(", pattern, ") failed: ", ErrnoText(errno)));
  }
  // From here on the destructor owns cleanup of the temp dir and any started member.
  std::unique_ptr<LocalEtcd> etcd(new LocalEtcd(std::move(options)));
  etcd->temp_dir_ = pattern;
  etcd->members_.resize(etcd->options_.members);
  for (int i = 0; i < etcd->size(); ++i) {
    Member& m = etcd->members_[i];
    m.name = absl::StrCat("m", i);
    m.data_dir = absl::StrCat(etcd->temp_dir_, "/", m.name);
    m.log_path = absl::StrCat(etcd->temp_dir_, "/", m.name, ".log");
  }

  const absl::Time deadline = absl::Now() + etcd->options_.start_timeout;
  for (int attempt = 1;; ++attempt) {
    absl::Status status = etcd->LaunchAttempt(deadline);
    if (status.ok()) return etcd;
    bool port_taken = false;
    for (int i = 0; i < etcd->size() && !port_taken; ++i) {
      std::ifstream log(etcd->members_[i].log_path);
      std::string line;
      while (std::getline(log, line)) {
        if (line.find("address already in use") != std::string::npos) {
          port_taken = true;
          break;
        }
      }
    }
    if (!port_taken || attempt == kMaxLaunchAttempts || absl::Now() >= deadline) {
      if (attempt > 1) {
        status =
            absl::Status(status.code(), absl::StrCat("(launch attempt ", attempt, " of ",
                                                     kMaxLaunchAttempts, ") ", status.message()));
      }
      return status;  // ~LocalEtcd kills what was started and removes the temp dir.
    }
    // Start over on fresh ports with empty data dirs: the old dirs name the old peer URLs.
    etcd->KillAllNow();
    for (const Member& m : etcd->members_) {
      std::error_code ec;
      fs::remove_all(m.data_dir, ec);
      fs::remove(m.log_path, ec);
    }
  }
}

absl::Status LocalEtcd::LaunchAttempt(absl::Time deadline) {
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(2 * size());
  if (!ports.ok()) return ports.status();
  for (int i = 0; i < size(); ++i) {
    members_[i].client_port = (*ports)[2 * i];
    members_[i].peer_port = (*ports)[2 * i + 1];
    members_[i].exited = false;
    members_[i].last_wait_status = 0;
  }
  if (options_.fault_proxies) {
    if (absl::Status s = StartProxies(); !s.ok()) return s;
  }
  cluster_token_ = UniqueToken();
  for (int i = 0; i < size(); ++i) {
    if (absl::Status s = Spawn(i); !s.ok()) return s;
  }
  if (absl::Status s = WaitAllReady(deadline); !s.ok()) return s;
  return LeaderUntil(deadline).status();
}

absl::Status LocalEtcd::StartProxies() {
  // Fresh proxies for the ports of this launch attempt; they hold their listening sockets,
  // so their own ports cannot be taken by anyone meanwhile.
  for (int i = 0; i < size(); ++i) {
    Member& m = members_[i];
    m.client_proxy.reset();
    m.peer_proxy.reset();
    absl::StatusOr<std::unique_ptr<FaultProxy>> client =
        FaultProxy::Start({.target_port = m.client_port});
    if (!client.ok()) return client.status();
    // rafthttp names the sender of every stream and pipeline request in this header
    // (etcdserver/api/rafthttp/stream.go, util.go), which is what Partition() keys on.
    absl::StatusOr<std::unique_ptr<FaultProxy>> peer =
        FaultProxy::Start({.target_port = m.peer_port, .sender_header = "X-Server-From"});
    if (!peer.ok()) return peer.status();
    m.client_proxy = *std::move(client);
    m.peer_proxy = *std::move(peer);
  }
  ApplyPartitions();
  return absl::OkStatus();
}

std::vector<std::string> LocalEtcd::BuildArgs(int member) const {
  const Member& m = members_[member];
  std::vector<std::string> cluster;
  for (int i = 0; i < size(); ++i)
    cluster.push_back(absl::StrCat(members_[i].name, "=", PeerUrl(i)));
  auto url = [this](const std::string& endpoint) {
    return options_.tls ? endpoint : absl::StrCat("http://", endpoint);
  };
  std::vector<std::string> args = {
      options_.etcd_binary,
      "--name=" + m.name,
      "--data-dir=" + m.data_dir,
      "--listen-client-urls=" + url(DirectClientEndpoint(member)),
      // The proxied URL with fault_proxies, so that clients discovering endpoints through
      // the member list go through the proxies too.
      "--advertise-client-urls=" + url(ClientEndpoint(member)),
      "--listen-peer-urls=" + DirectPeerUrl(member),
      "--initial-advertise-peer-urls=" + PeerUrl(member),
      "--initial-cluster=" +
          (m.existing_cluster.empty() ? absl::StrJoin(cluster, ",") : m.existing_cluster),
      "--initial-cluster-token=" + cluster_token_,
      m.existing_cluster.empty() ? "--initial-cluster-state=new"
                                 : "--initial-cluster-state=existing",
      // zap to stderr, which is the log file: one writer, and flag errors printed before the
      // logger exists land in the same file. etcd 3.4 also accepts a file path here.
      // As etcd 3.5 does by default: a member cut off from its peers does not
      // raise its term, so healing it does not depose a healthy leader (seen:
      // a 4 s leaderless window at the heal, with leases lost by their deadline).
      "--pre-vote=true",
      "--logger=zap",
      "--log-outputs=stderr",
  };
  if (options_.unsafe_no_fsync) args.push_back("--unsafe-no-fsync");
  if (options_.tls) {
    args.push_back("--cert-file=" + options_.tls->cert_file);
    args.push_back("--key-file=" + options_.tls->key_file);
    if (options_.tls->client_cert_auth) {
      args.push_back("--client-cert-auth");
      args.push_back("--trusted-ca-file=" + (options_.tls->client_ca_file.empty()
                                                 ? options_.tls->ca_file
                                                 : options_.tls->client_ca_file));
    }
  }
  args.insert(args.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  return args;
}

absl::Status LocalEtcd::Spawn(int member) {
  Member& m = members_[member];
  // Everything the child needs is prepared here: between fork and exec only
  // async-signal-safe calls are allowed (gRPC's threads may hold the malloc lock).
  const std::vector<std::string> args = BuildArgs(member);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  // ETCD_* variables are etcd flags too; a stray one (ETCD_DISCOVERY, ETCD_NAME, …) from the
  // caller's environment would change or break the cluster.
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "ETCD_", 5) != 0) env.emplace_back(*e);
  }
#if defined(__aarch64__)
  env.emplace_back("ETCD_UNSUPPORTED_ARCH=arm64");
#elif defined(__s390x__)
  env.emplace_back("ETCD_UNSUPPORTED_ARCH=s390x");
#endif
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const std::string banner =
      absl::StrCat("=== LocalEtcd: starting ", m.name, ": ", absl::StrJoin(args, " "), "\n");

  const int log_fd =
      AboveStdio(open(m.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("LocalEtcd: cannot open log ", m.log_path, ": ", ErrnoText(errno)));
  }
  if (write(log_fd, banner.data(), banner.size()) < 0) {
    // Only a diagnostic line; etcd's own output is what matters.
  }
  const int null_fd = AboveStdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int exec_pipe[2] = {-1, -1};
  if (null_fd < 0 || pipe2(exec_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(
        absl::StrCat("LocalEtcd: cannot set up ", m.name, ": ", ErrnoText(err)));
  }
  exec_pipe[0] = AboveStdio(exec_pipe[0]);
  exec_pipe[1] = AboveStdio(exec_pipe[1]);

  struct rlimit nofile {};
  const int max_fd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
                         ? static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, 1 << 16))
                         : 1 << 16;
  const pid_t parent_pid = getpid();
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);

  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(log_fd);
    close(null_fd);
    close(exec_pipe[0]);
    close(exec_pipe[1]);
    return absl::InternalError(absl::StrCat("LocalEtcd: fork() failed: ", ErrnoText(err)));
  }
  if (pid == 0) {
    // Child. Ignored signals and the signal mask survive exec; etcd needs SIGTERM & co.
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
      sigaction(sig, &default_action, nullptr);
    }
    sigprocmask(SIG_SETMASK, &empty_mask, nullptr);
    // Own process group: a Ctrl-C aimed at the test's terminal group is the test's business;
    // etcd is cleaned up by the destructor or PDEATHSIG.
    setpgid(0, 0);
    // Dies with the forking thread; if that already happened, PDEATHSIG was set too late.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent_pid) _exit(125);
    if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) _exit(126);
    // Keep only stdio and the exec-error pipe (as fd 3, close-on-exec); the parent's other
    // descriptors (gRPC sockets, epoll fds) must not leak into etcd.
    if (exec_pipe[1] != 3 && dup2(exec_pipe[1], 3) < 0) _exit(126);
    fcntl(3, F_SETFD, FD_CLOEXEC);
    if (close_range(4, ~0U, 0) != 0) {
      for (int fd = 4; fd < max_fd; ++fd) close(fd);
    }
    execve(argv[0], argv.data(), envp.data());
    const int err = errno;
    if (write(3, &err, sizeof(err)) < 0) {
      // Nothing else to report to; the exit status says exec failed.
    }
    _exit(127);
  }

  // Parent. Also set the group here so it exists before we might signal it.
  setpgid(pid, pid);
  close(exec_pipe[1]);
  close(log_fd);
  close(null_fd);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(exec_pipe[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  close(exec_pipe[0]);
  m.pid = pid;
  m.paused = false;
  m.exited = false;
  if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
    // The child is about to _exit(127); reap it so no zombie is left.
    SignalAndWait(member, SIGKILL, kKillWait);
    return absl::FailedPreconditionError(absl::StrCat("LocalEtcd: cannot exec ",
                                                      options_.etcd_binary, " for ", m.name, ": ",
                                                      ErrnoText(exec_errno)));
  }
  return absl::OkStatus();
}

bool LocalEtcd::Poll(int member) const {
  Member& m = members_[member];
  if (m.pid == 0) return false;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(m.pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return true;
  if (r < 0) {
    // ECHILD: someone else reaped it (or SIGCHLD is ignored). Alive only if it still exists.
    if (kill(m.pid, 0) == 0) return true;
    status = -1;
  }
  m.exited = true;
  m.last_wait_status = status;
  m.pid = 0;
  m.paused = false;
  return false;
}

bool LocalEtcd::SignalAndWait(int member, int sig, absl::Duration timeout) {
  if (!Poll(member)) return true;
  Member& m = members_[member];
  kill(m.pid, sig);
  // A stopped process only acts on SIGTERM once continued (SIGKILL works regardless).
  if (m.paused || sig != SIGKILL) kill(m.pid, SIGCONT);
  const absl::Time deadline = absl::Now() + timeout;
  while (Poll(member)) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kReapInterval);
  }
  return true;
}

void LocalEtcd::KillAllNow() {
  for (int i = 0; i < size(); ++i) {
    if (Poll(i)) kill(members_[i].pid, SIGKILL);
  }
  for (int i = 0; i < size(); ++i) SignalAndWait(i, SIGKILL, kKillWait);
}

LocalEtcd::~LocalEtcd() {
  KillAllNow();
  // After the members: a proxy going away first would look like a network failure to them.
  for (Member& m : members_) {
    m.client_proxy.reset();
    m.peer_proxy.reset();
  }
  if (!temp_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(temp_dir_, ec);
  }
}

int LocalEtcd::size() const { return static_cast<int>(members_.size()); }

std::vector<std::string> LocalEtcd::ClientEndpoints() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(ClientEndpoint(i));
  return out;
}

std::string LocalEtcd::ClientEndpoint(int member) const {
  if (member < 0 || member >= size()) return "";
  if (!members_[member].client_proxy) return DirectClientEndpoint(member);
  return absl::StrCat(options_.tls ? "https://" : "", members_[member].client_proxy->address());
}

std::string LocalEtcd::DirectClientEndpoint(int member) const {
  if (member < 0 || member >= size()) return "";
  return absl::StrCat(options_.tls ? "https://" : "", "127.0.0.1:", members_[member].client_port);
}

std::string LocalEtcd::EndpointsFlag() const { return absl::StrJoin(ClientEndpoints(), ","); }

std::string LocalEtcd::PeerUrl(int member) const {
  if (member < 0 || member >= size()) return "";
  if (!members_[member].peer_proxy) return DirectPeerUrl(member);
  return absl::StrCat("http://", members_[member].peer_proxy->address());
}

std::string LocalEtcd::DirectPeerUrl(int member) const {
  if (member < 0 || member >= size()) return "";
  return absl::StrCat("http://127.0.0.1:", members_[member].peer_port);
}

uint64_t LocalEtcd::MemberId(int member) const {
  if (member < 0 || member >= size()) return 0;
  return members_[member].member_id;
}

std::string LocalEtcd::DataDir(int member) const {
  if (member < 0 || member >= size()) return "";
  return members_[member].data_dir;
}

std::string LocalEtcd::LogPath(int member) const {
  if (member < 0 || member >= size()) return "";
  return members_[member].log_path;
}

std::string LocalEtcd::TempDir() const { return temp_dir_; }

pid_t LocalEtcd::Pid(int member) const {
  if (member < 0 || member >= size() || !Poll(member)) return 0;
  return members_[member].pid;
}

bool LocalEtcd::IsRunning(int member) const {
  return member >= 0 && member < size() && Poll(member);
}

absl::Status LocalEtcd::CheckMember(int member) const {
  if (member < 0 || member >= size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("LocalEtcd: no member ", member, " (cluster has ", size(), ")"));
  }
  return absl::OkStatus();
}

std::string LocalEtcd::DescribeMember(int member) const {
  const Member& m = members_[member];
  const std::string proxies =
      m.client_proxy
          ? absl::StrCat(" via proxies ", m.client_proxy->address(), " / ", m.peer_proxy->address())
          : "";
  return absl::StrCat("etcd member ", m.name, " (client ", DirectClientEndpoint(member), ", peer ",
                      DirectPeerUrl(member), proxies,
                      m.pid != 0 ? absl::StrCat(", pid ", m.pid) : "", ")");
}

std::string LocalEtcd::ExitDescription(int member) const {
  const Member& m = members_[member];
  return m.exited ? WaitStatusText(m.last_wait_status) : "not running";
}

std::string LocalEtcd::LogTail(int member, int max_lines) const {
  if (!options_.keep_logs_on_failure) return "";
  const std::string& path = members_[member].log_path;
  std::ifstream in(path);
  if (!in) return absl::StrCat("\n--- (no log at ", path, ")");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.size() > kLogLineMax) line = absl::StrCat(line.substr(0, kLogLineMax), " […]");
    lines.push_back(std::move(line));
  }
  const size_t tail_start =
      lines.size() > static_cast<size_t>(max_lines) ? lines.size() - max_lines : 0;
  // The cause often scrolls out of the tail (zap logs a lot while shutting down).
  std::vector<std::string> notable;
  for (size_t i = 0; i < tail_start && notable.size() < kLogNotableLines; ++i) {
    const std::string& l = lines[i];
    if (l.find("\"level\":\"error\"") != std::string::npos ||
        l.find("\"level\":\"fatal\"") != std::string::npos ||
        l.find("\"level\":\"panic\"") != std::string::npos ||
        l.find("flag provided but not defined") != std::string::npos) {
      notable.push_back(l);
    }
  }
  std::string out;
  if (!notable.empty()) {
    absl::StrAppend(&out, "\n--- earlier errors in ", path, " ---\n", absl::StrJoin(notable, "\n"));
  }
  absl::StrAppend(&out, "\n--- last ", lines.size() - tail_start, " lines of ", path, " ---\n",
                  absl::StrJoin(lines.begin() + tail_start, lines.end(), "\n"));
  return out;
}

absl::Status LocalEtcd::WaitAllReady(absl::Time deadline) {
  std::vector<bool> ready(size(), false);
  std::vector<std::string> last_error(size(), "no answer yet");
  while (true) {
    bool all_ready = true;
    for (int i = 0; i < size(); ++i) {
      if (ready[i]) continue;
      if (!Poll(i)) {
        return absl::UnavailableError(absl::StrCat("LocalEtcd: ", DescribeMember(i), " ",
                                                   ExitDescription(i), " before it was ready",
                                                   LogTail(i)));
      }
      etcdserverpb::StatusResponse response;
      const absl::Duration left = std::max(absl::Milliseconds(1), deadline - absl::Now());
      const grpc::Status s =
          CallStatus(options_, DirectClientEndpoint(i), std::min(kRpcDeadline, left), &response);
      if (s.ok()) {
        ready[i] = true;
        members_[i].member_id = response.header().member_id();
      } else {
        last_error[i] = GrpcStatusText(s);
        all_ready = false;
      }
    }
    if (all_ready) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      std::string msg = absl::StrCat("LocalEtcd: etcd did not answer Maintenance.Status within ",
                                     absl::FormatDuration(options_.start_timeout), ":");
      std::string logs;
      // Several silent members: a shorter tail each keeps the message readable.
      const int silent = static_cast<int>(std::count(ready.begin(), ready.end(), false));
      const int lines = std::max(kLogTailLines / silent, 10);
      for (int i = 0; i < size(); ++i) {
        if (ready[i]) continue;
        absl::StrAppend(&msg, "\n  ", DescribeMember(i), ": ", last_error[i]);
        absl::StrAppend(&logs, LogTail(i, lines));
      }
      return absl::DeadlineExceededError(msg + logs);
    }
    SleepUntilNextPoll(deadline);
  }
}

absl::Status LocalEtcd::WaitReady(int member, absl::Duration timeout) {
  if (absl::Status s = CheckMember(member); !s.ok()) return s;
  const absl::Time deadline = absl::Now() + timeout;
  std::string last_error = "no answer yet";
  while (true) {
    if (!Poll(member)) {
      return absl::UnavailableError(absl::StrCat("LocalEtcd: ", DescribeMember(member), " ",
                                                 ExitDescription(member), LogTail(member)));
    }
    etcdserverpb::StatusResponse response;
    const absl::Duration left = std::max(absl::Milliseconds(1), deadline - absl::Now());
    const grpc::Status s =
        CallStatus(options_, DirectClientEndpoint(member), std::min(kRpcDeadline, left), &response);
    if (s.ok()) {
      // A member added at run time learns its id here.
      members_[member].member_id = response.header().member_id();
      return absl::OkStatus();
    }
    last_error = GrpcStatusText(s);
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "LocalEtcd: ", DescribeMember(member), members_[member].paused ? " (paused)" : "",
          " did not answer Maintenance.Status within ", absl::FormatDuration(timeout), ": ",
          last_error, LogTail(member)));
    }
    SleepUntilNextPoll(deadline);
  }
}

absl::StatusOr<int> LocalEtcd::Leader(absl::Duration timeout) {
  return LeaderUntil(absl::Now() + timeout);
}

absl::StatusOr<int> LocalEtcd::LeaderUntil(absl::Time deadline) {
  const int majority = size() / 2 + 1;
  while (true) {
    std::vector<std::optional<etcdserverpb::StatusResponse>> answers(size());
    std::vector<std::string> notes(size());
    bool any_running = false;
    for (int i = 0; i < size(); ++i) {
      if (!Poll(i)) {
        notes[i] = ExitDescription(i);
        continue;
      }
      any_running = true;
      if (members_[i].paused) {
        notes[i] = "paused";
        continue;
      }
      etcdserverpb::StatusResponse response;
      const absl::Duration left = std::max(absl::Milliseconds(1), deadline - absl::Now());
      const grpc::Status s =
          CallStatus(options_, DirectClientEndpoint(i), std::min(kRpcDeadline, left), &response);
      if (s.ok()) {
        notes[i] = absl::StrCat("id ", absl::Hex(response.header().member_id()), " sees leader ",
                                absl::Hex(response.leader()), " term ", response.raftterm());
        answers[i] = std::move(response);
      } else {
        notes[i] = GrpcStatusText(s);
      }
    }
    if (!any_running) {
      return absl::FailedPreconditionError("LocalEtcd: no member is running, so no leader");
    }
    // A member's own claim is not enough: a deposed leader may not know it yet. The leader
    // must also be the one a majority of the cluster reports.
    std::map<uint64_t, int> votes;
    for (const auto& a : answers) {
      if (a && a->leader() != 0) ++votes[a->leader()];
    }
    for (int i = 0; i < size(); ++i) {
      if (answers[i] && answers[i]->leader() == answers[i]->header().member_id() &&
          votes[answers[i]->leader()] >= majority) {
        return i;
      }
    }
    if (absl::Now() >= deadline) {
      std::string msg = "LocalEtcd: no leader agreed by a majority of members:";
      for (int i = 0; i < size(); ++i) {
        absl::StrAppend(&msg, "\n  ", DescribeMember(i), ": ", notes[i]);
      }
      return absl::DeadlineExceededError(msg);
    }
    SleepUntilNextPoll(deadline);
  }
}

absl::StatusOr<int> LocalEtcd::Settled(absl::Duration timeout, absl::Duration quiet) {
  const absl::Time deadline = absl::Now() + timeout;
  // The leader id and term every member named at the last poll (0: they did
  // not agree), and since when.
  uint64_t agreed_leader = 0;
  uint64_t agreed_term = 0;
  absl::Time agreed_since;
  std::string last;
  while (true) {
    uint64_t seen_leader = 0;
    uint64_t seen_term = 0;
    int leader = -1;
    bool all_agree = true;
    last.clear();
    for (int i = 0; i < size() && all_agree; ++i) {
      if (!Poll(i) || members_[i].paused) continue;
      etcdserverpb::StatusResponse response;
      const absl::Duration left = std::max(absl::Milliseconds(1), deadline - absl::Now());
      const grpc::Status s =
          CallStatus(options_, DirectClientEndpoint(i), std::min(kRpcDeadline, left), &response);
      if (!s.ok() || response.leader() == 0) {
        absl::StrAppend(&last, DescribeMember(i), ": ",
                        s.ok() ? std::string("no leader") : GrpcStatusText(s));
        all_agree = false;
      } else if (seen_leader != 0 &&
                 (seen_leader != response.leader() || seen_term != response.raftterm())) {
        absl::StrAppend(&last, DescribeMember(i), " disagrees on the leader or term");
        all_agree = false;
      } else {
        seen_leader = response.leader();
        seen_term = response.raftterm();
        if (response.leader() == response.header().member_id()) leader = i;
      }
    }
    const absl::Time now = absl::Now();
    if (all_agree && leader >= 0) {
      if (seen_leader != agreed_leader || seen_term != agreed_term) {
        agreed_leader = seen_leader;
        agreed_term = seen_term;
        agreed_since = now;
      } else if (now - agreed_since >= quiet) {
        return leader;
      }
    } else {
      agreed_leader = 0;
    }
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("LocalEtcd: the cluster did not settle on one leader: ", last));
    }
    SleepUntilNextPoll(deadline);
  }
}

absl::Status LocalEtcd::Stop(int member) {
  if (absl::Status s = CheckMember(member); !s.ok()) return s;
  if (SignalAndWait(member, SIGTERM, kStopGrace)) return absl::OkStatus();
  if (SignalAndWait(member, SIGKILL, kKillWait)) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("LocalEtcd: ", DescribeMember(member),
                                          " did not exit after SIGTERM and SIGKILL"));
}

absl::Status LocalEtcd::Kill(int member) {
  if (absl::Status s = CheckMember(member); !s.ok()) return s;
  if (SignalAndWait(member, SIGKILL, kKillWait)) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("LocalEtcd: ", DescribeMember(member), " did not exit after SIGKILL"));
}

absl::Status LocalEtcd::StopAll() {
  // One at a time: with SIGTERM sent to all members at once, etcd 3.4 members spend seconds
  // trying to hand leadership to each other; one by one each exits in tens of milliseconds.
  absl::Status result;
  for (int i = 0; i < size(); ++i) {
    if (absl::Status s = Stop(i); !s.ok() && result.ok()) result = s;
  }
  return result;
}

absl::Status LocalEtcd::RestartAll() {
  for (int i = 0; i < size(); ++i) {
    if (Poll(i)) continue;
    if (absl::Status s = Spawn(i); !s.ok()) return s;
  }
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  if (absl::Status s = WaitAllReady(deadline); !s.ok()) return s;
  return LeaderUntil(deadline).status();
}

absl::StatusOr<int> LocalEtcd::PrepareAddedMember() {
  if (options_.fault_proxies) {
    return absl::FailedPreconditionError("LocalEtcd: members cannot be added with fault_proxies");
  }
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(2);
  if (!ports.ok()) return ports.status();
  const int index = size();
  Member& m = members_.emplace_back();
  m.name = absl::StrCat("m", index);
  m.data_dir = absl::StrCat(temp_dir_, "/", m.name);
  m.log_path = absl::StrCat(temp_dir_, "/", m.name, ".log");
  m.client_port = (*ports)[0];
  m.peer_port = (*ports)[1];
  return index;
}

absl::Status LocalEtcd::StartAddedMember(int member, const std::string& initial_cluster) {
  if (absl::Status s = CheckMember(member); !s.ok()) return s;
  if (initial_cluster.empty()) return absl::InvalidArgumentError("LocalEtcd: no initial cluster");
  members_[member].existing_cluster = initial_cluster;
  if (absl::Status s = Spawn(member); !s.ok()) return s;
  return WaitReady(member, options_.start_timeout);
}

absl::Status LocalEtcd::Restart(int member) {
  if (absl::Status s = CheckMember(member); !s.ok()) return s;
  if (Poll(member)) {
    if (absl::Status s = Stop(member); !s.ok()) return s;
  }
  if (absl::Status s = Spawn(member); !s.ok()) return s;
  return WaitReady(member, options_.start_timeout);
}

absl::Status LocalEtcd::Pause(int member) {
  if (absl::Status s = CheckMember(member); !s.ok()) return s;
  if (!Poll(member)) {
    return absl::FailedPreconditionError(
        absl::StrCat("LocalEtcd: cannot pause ", DescribeMember(member), ": not running"));
  }
  const pid_t pid = members_[member].pid;
  if (kill(pid, SIGSTOP) != 0) {
    return absl::InternalError(absl::StrCat("LocalEtcd: SIGSTOP to ", DescribeMember(member),
                                            " failed: ", ErrnoText(errno)));
  }
  members_[member].paused = true;
  // Signals are delivered asynchronously; callers expect the member to be frozen on return.
  const absl::Time deadline = absl::Now() + kPauseWait;
  while (true) {
    const char state = ProcState(pid);
    if (state == 'T' || state == 't' || state == 0) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("LocalEtcd: ", DescribeMember(member),
                                                      " not stopped after SIGSTOP (state ",
                                                      std::string(1, state), ")"));
    }
    absl::SleepFor(kReapInterval);
  }
}

absl::Status LocalEtcd::Resume(int member) {
  if (absl::Status s = CheckMember(member); !s.ok()) return s;
  if (!Poll(member)) {
    return absl::FailedPreconditionError(
        absl::StrCat("LocalEtcd: cannot resume ", DescribeMember(member), ": not running"));
  }
  if (kill(members_[member].pid, SIGCONT) != 0) {
    return absl::InternalError(absl::StrCat("LocalEtcd: SIGCONT to ", DescribeMember(member),
                                            " failed: ", ErrnoText(errno)));
  }
  members_[member].paused = false;
  return absl::OkStatus();
}

absl::Status LocalEtcd::CheckProxies(int member) const {
  if (absl::Status s = CheckMember(member); !s.ok()) return s;
  if (!members_[member].client_proxy) {
    return absl::FailedPreconditionError(
        "LocalEtcd: fault injection needs LocalEtcdOptions::fault_proxies");
  }
  return absl::OkStatus();
}

namespace {
[[noreturn]] void ProxyAccessorFailed(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
  std::abort();
}
}  // namespace

FaultProxy& LocalEtcd::ClientProxy(int member) {
  if (absl::Status s = CheckProxies(member); !s.ok()) ProxyAccessorFailed(s);
  return *members_[member].client_proxy;
}

FaultProxy& LocalEtcd::PeerProxy(int member) {
  if (absl::Status s = CheckProxies(member); !s.ok()) ProxyAccessorFailed(s);
  return *members_[member].peer_proxy;
}

absl::Status LocalEtcd::BlackHoleClient(int member, BlackHole mode) {
  if (absl::Status s = CheckProxies(member); !s.ok()) return s;
  members_[member].client_proxy->SetBlackHole(mode);
  return absl::OkStatus();
}

absl::Status LocalEtcd::DelayClient(int member, absl::Duration delay) {
  if (absl::Status s = CheckProxies(member); !s.ok()) return s;
  members_[member].client_proxy->SetDelay(Direction::kDownstream, delay);
  return absl::OkStatus();
}

absl::Status LocalEtcd::ResetClient(int member, bool refuse_new) {
  if (absl::Status s = CheckProxies(member); !s.ok()) return s;
  members_[member].client_proxy->Reset(refuse_new);
  return absl::OkStatus();
}

absl::Status LocalEtcd::PassClient(int member) {
  if (absl::Status s = CheckProxies(member); !s.ok()) return s;
  members_[member].client_proxy->Pass();
  return absl::OkStatus();
}

absl::Status LocalEtcd::Partition(int member) {
  if (absl::Status s = CheckProxies(member); !s.ok()) return s;
  if (members_[member].member_id == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("LocalEtcd: the id of ", DescribeMember(member), " is not known"));
  }
  partitioned_.insert(member);
  ApplyPartitions();
  return absl::OkStatus();
}

absl::Status LocalEtcd::Heal(int member) {
  if (absl::Status s = CheckProxies(member); !s.ok()) return s;
  partitioned_.erase(member);
  ApplyPartitions();
  return absl::OkStatus();
}

absl::Status LocalEtcd::HealAll() {
  if (absl::Status s = CheckProxies(0); !s.ok()) return s;
  partitioned_.clear();
  ApplyPartitions();
  return absl::OkStatus();
}

void LocalEtcd::ApplyPartitions() {
  // Peer traffic runs both ways over connections opened by either side (a member's stream
  // readers dial the peer that sends to it), so each cut needs both ends: the partitioned
  // member's own proxy drops everything it receives, and the others drop whatever the
  // partitioned member sends them. Dropped bytes break the HTTP framing of a connection; the
  // proxy resets such connections when they pass again, and raft redials at once.
  for (int j = 0; j < size(); ++j) {
    FaultProxy* proxy = members_[j].peer_proxy.get();
    if (proxy == nullptr) continue;
    proxy->SetBlackHole(partitioned_.count(j) ? BlackHole::kDrop : BlackHole::kOff);
    for (int i = 0; i < size(); ++i) {
      if (i == j || members_[i].member_id == 0) continue;
      proxy->SetSenderRule(absl::StrCat(absl::Hex(members_[i].member_id)),
                           partitioned_.count(i) ? SenderRule::kBlackHoleDrop : SenderRule::kPass);
    }
  }
}

absl::Status EnableAuth(const LocalEtcd& etcd, const LocalEtcdAuth& auth) {
  // Direct: a fault injected on the client proxy must not break the set-up.
  const std::string endpoint = etcd.DirectClientEndpoint(0);
  if (absl::StartsWith(endpoint, "https://")) {
    return absl::UnimplementedError("EnableAuth: TLS endpoints are not supported");
  }
  ClientOptions options;
  options.endpoints = {endpoint};
  options.dial_timeout = absl::Seconds(10);
  options.request_timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  Auth admin = (*client)->auth();
  // Each step in turn; the first failure names its step.
  const std::vector<std::pair<std::string, std::function<absl::Status()>>> steps = {
      {"role add root", [&] { return admin.RoleAdd("root").status(); }},
      {"user add root", [&] { return admin.UserAdd("root", auth.root_password).status(); }},
      {"user grant-role root root", [&] { return admin.UserGrantRole("root", "root").status(); }},
      {"role add " + auth.role, [&] { return admin.RoleAdd(auth.role).status(); }},
      {"role grant-permission " + auth.role,
       [&] {
         return admin
             .RoleGrantPermission(auth.role, {.type = PermissionType::kReadWrite,
                                              .range = KeyRange::Prefix(auth.prefix)})
             .status();
       }},
      {"user add " + auth.user,
       [&] { return admin.UserAdd(auth.user, auth.user_password).status(); }},
      {"user grant-role " + auth.user,
       [&] { return admin.UserGrantRole(auth.user, auth.role).status(); }},
      {"auth enable", [&] { return admin.Enable().status(); }},
  };
  for (const auto& [what, step] : steps) {
    if (absl::Status status = step(); !status.ok()) {
      return absl::Status(status.code(), absl::StrCat("EnableAuth: ", what, " on ", endpoint, ": ",
                                                      status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace etcdgrpc::testing
