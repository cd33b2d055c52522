// Maintenance::Snapshot: etcd's server-streaming Snapshot RPC written into a
// file the way etcdctl's snapshot save does (clientv3/snapshot's Save):
// "<path>.part" first, fsync, then the rename; plus the check etcdctl leaves
// to restore, of the sha256 etcd appends. Its one call goes through the call
// engine's UnaryCallPlan (token, endpoint, metadata, deadline, error text).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "etcdgrpc/maintenance.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "lib/internal/client_core.h"
#include "lib/internal/maintenance_endpoint.h"
#include "lib/internal/sha256.h"
#include "lib/internal/unary_call.h"

namespace etcdgrpc {
namespace {

constexpr size_t kChecksumSize = 32;

// Go's text for an errno (its syscall table is strerror's, lower case).
std::string ErrnoText(int error) {
  char buffer[256];
  // GNU strerror_r: thread-safe, returns the text (maybe not in buffer).
  std::string text = strerror_r(error, buffer, sizeof(buffer));
  if (!text.empty()) text[0] = absl::ascii_tolower(static_cast<unsigned char>(text[0]));
  return text;
}

absl::Status FileError(int error, const std::string& message) {
  return absl::Status(absl::ErrnoToStatusCode(error), message);
}

// "<path>.part" while the snapshot streams in: removed unless Commit() renamed it.
class PartFile {
 public:
  explicit PartFile(std::string path) : path_(std::move(path)) {}
  ~PartFile() {
    if (fd_ >= 0) close(fd_);
    if (!committed_ && opened_) unlink(path_.c_str());
  }
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  absl::Status Open() {
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      const int error = errno;
      return FileError(error, absl::StrCat("could not open ", path_, " (open ", path_, ": ",
                                           ErrnoText(error), ")"));
    }
    // Two saves to one path at once would write one file (etcdctl truncates
    // it under the other) and both pass their checksum, which is taken over
    // the stream: the second is refused instead, and leaves the file alone.
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      close(std::exchange(fd_, -1));
      if (error == EWOULDBLOCK) {
        return absl::FailedPreconditionError(
            absl::StrCat("another snapshot is being saved to ", path_));
      }
      return FileError(error, absl::StrCat("could not lock ", path_, ": ", ErrnoText(error)));
    }
    opened_ = true;
    if (ftruncate(fd_, 0) != 0) return WriteError(errno);
    return absl::OkStatus();
  }

  // Back to empty, for a call made again from the start.
  absl::Status Reset() {
    if (ftruncate(fd_, 0) != 0 || lseek(fd_, 0, SEEK_SET) != 0) return WriteError(errno);
    return absl::OkStatus();
  }

  absl::Status Write(std::string_view data) {
    while (!data.empty()) {
      const ssize_t put = write(fd_, data.data(), data.size());
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) return WriteError(errno);
      data.remove_prefix(static_cast<size_t>(put));
    }
    return absl::OkStatus();
  }

  // fsync, close, rename to `path`.
  absl::Status Commit(const std::string& path) {
    if (fsync(fd_) != 0) return WriteError(errno);
    const int fd = std::exchange(fd_, -1);
    if (close(fd) != 0) return WriteError(errno);
    if (rename(path_.c_str(), path.c_str()) != 0) {
      const int error = errno;
      return FileError(error, absl::StrCat("could not rename ", path_, " to ", path, " (rename ",
                                           path_, " ", path, ": ", ErrnoText(error), ")"));
    }
    committed_ = true;
    // The rename itself survives a crash only once the directory is synced.
    const std::string dir = std::filesystem::path(path).parent_path().string();
    const int dir_fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      fsync(dir_fd);
      close(dir_fd);
    }
    return absl::OkStatus();
  }

 private:
  absl::Status WriteError(int error) const {
    return FileError(error, absl::StrCat("write ", path_, ": ", ErrnoText(error)));
  }

  const std::string path_;
  int fd_ = -1;
  bool opened_ = false;
  bool committed_ = false;
};

// Hashes everything but the last 32 bytes seen so far: at the end of the
// stream those are etcd's sha256 of the rest.
class ChecksumTail {
 public:
  void Add(std::string_view data) {
    tail_.append(data.data(), data.size());
    size_ += data.size();
    if (tail_.size() > kChecksumSize) {
      const size_t hashed = tail_.size() - kChecksumSize;
      sha_.Update(std::string_view(tail_).substr(0, hashed));
      tail_.erase(0, hashed);
    }
  }

  // etcd's own check (clientv3/snapshot hasChecksum: the backend is whole
  // pages, so the size is 32 past a multiple of 512), then the digest.
  absl::Status Verify(std::string* hex) {
    if (size_ % 512 != kChecksumSize) {
      return absl::DataLossError(absl::StrCat("sha256 checksum not found [bytes: ", size_, "]"));
    }
    const std::array<uint8_t, 32> digest = sha_.Finish();
    const std::string computed(digest.begin(), digest.end());
    if (computed != tail_) {
      return absl::DataLossError(absl::StrCat("expected sha256 ", absl::BytesToHexString(tail_),
                                              ", got ", absl::BytesToHexString(computed)));
    }
    *hex = absl::BytesToHexString(computed);
    return absl::OkStatus();
  }

  uint64_t size() const { return size_; }

 private:
  internal::Sha256 sha_;
  std::string tail_;
  uint64_t size_ = 0;
};

}  // namespace

absl::StatusOr<SnapshotResult> Maintenance::Snapshot(const std::string& path,
                                                     const SnapshotOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("snapshot path is empty");
  internal::Connection& connection = *core_->connection;
  internal::AsyncCalls& calls = *core_->async_calls;
  internal::CallOptions call_options{.timeout = options.timeout.value_or(absl::InfiniteDuration())};
  if (!options.endpoint.empty()) {
    absl::StatusOr<size_t> index = internal::EndpointIndex(connection, options.endpoint);
    if (!index.ok()) return index.status();
    call_options.endpoint = *index;
  }
  // Before anything is asked of etcd: an unwritable path fails here.
  PartFile file(path + ".part");
  if (absl::Status s = file.Open(); !s.ok()) return s;

  internal::UnaryCallPlan plan(connection, internal::kSnapshotMethod, internal::Retry::kSafe,
                               call_options);
  if (absl::Status s = plan.Begin(); !s.ok()) return s;
  while (true) {
    grpc::ClientContext context;
    internal::EndpointStubs& stubs = plan.Next(&context);
    // Registered like an asynchronous call, so that closing the client
    // cancels a transfer that has no deadline, and waits for it to end.
    if (!calls.Begin(&context)) return internal::ClosedError();
    ChecksumTail checksum;
    absl::Status written = file.Reset();
    grpc::Status status;
    {
      std::unique_ptr<grpc::ClientReaderInterface<etcdserverpb::SnapshotResponse>> reader =
          stubs.maintenance->Snapshot(&context, etcdserverpb::SnapshotRequest());
      etcdserverpb::SnapshotResponse message;
      while (written.ok() && reader->Read(&message)) {
        written = file.Write(message.blob());
        checksum.Add(message.blob());
      }
      if (!written.ok()) context.TryCancel();
      status = reader->Finish();
    }
    calls.Release(&context);
    calls.Done();
    if (!written.ok()) return written;
    absl::Status result;
    if (!plan.Finished(status, &result)) continue;
    if (!result.ok()) return result;
    SnapshotResult snapshot{
        .path = path,
        .size = static_cast<int64_t>(checksum.size()) - static_cast<int64_t>(kChecksumSize),
        .sha256 = {},
        .endpoint = stubs.address};
    if (absl::Status s = checksum.Verify(&snapshot.sha256); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(s.message(), " [", stubs.address, " ",
                                                 internal::kSnapshotMethod, "]"));
    }
    if (absl::Status s = file.Commit(path); !s.ok()) return s;
    return snapshot;
  }
}

}  // namespace etcdgrpc
