#include "lib/internal/tls_credentials.h"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace etcdgrpc::internal {

namespace {

// The contents of a PEM file named by a TlsOptions field; InvalidArgument naming the option
// and the file when it cannot be read.
absl::StatusOr<std::string> ReadPemFile(absl::string_view option, const std::string& path) {
  // stdio rather than iostreams: reading a directory must be an error, not an exception.
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS ", option, " \"", path, "\": cannot open: ", std::generic_category().message(errno)));
  }
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), file)) > 0;) text.append(buffer, n);
  const int read_errno = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (read_errno != 0 || text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS ", option, " \"", path, "\": ",
        read_errno != 0 ? absl::StrCat("cannot read: ", std::generic_category().message(read_errno))
                        : "file is empty"));
  }
  if (!absl::StrContains(text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS ", option, " \"", path, "\": not a PEM file"));
  }
  return text;
}

// TLS that accepts any server certificate (TlsOptions::skip_server_verification): gRPC's
// experimental TLS credentials with server verification, its host check and the certificate
// verifier all off; the client certificate, if any, still presented.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> UnverifiedTlsCredentials(
    const grpc::SslCredentialsOptions& ssl) {
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_verify_server_certs(false);
  tls.set_check_call_host(false);
  tls.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  if (!ssl.pem_cert_chain.empty() || !ssl.pem_root_certs.empty()) {
    std::vector<grpc::experimental::IdentityKeyCertPair> identity;
    if (!ssl.pem_cert_chain.empty()) {
      identity.push_back(
          {.private_key = ssl.pem_private_key, .certificate_chain = ssl.pem_cert_chain});
    }
    tls.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(ssl.pem_root_certs,
                                                                            identity));
    if (!ssl.pem_root_certs.empty()) tls.watch_root_certs();
    if (!identity.empty()) tls.watch_identity_key_cert_pairs();
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::experimental::TlsCredentials(tls);
  if (credentials == nullptr) {
    return absl::InvalidArgumentError("gRPC refused the TLS options (TlsCredentials failed)");
  }
  return credentials;
}

}  // namespace

// Credentials of TLS channels: the CA, client certificate and key of options.tls, or (https://
// endpoints without options.tls) gRPC's default roots and no client certificate.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const ClientOptions& options) {
  grpc::SslCredentialsOptions ssl;
  if (options.tls.has_value()) {
    const TlsOptions& tls = *options.tls;
    if (tls.cert_file.empty() != tls.key_file.empty()) {
      return absl::InvalidArgumentError(
          tls.cert_file.empty()
              ? "TLS key_file given without cert_file: a client certificate needs both"
              : "TLS cert_file given without key_file: a client certificate needs both");
    }
    if (!tls.ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadPemFile("ca_file", tls.ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!tls.cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadPemFile("cert_file", tls.cert_file);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPemFile("key_file", tls.key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
  }
  if (options.tls.has_value() && options.tls->skip_server_verification) {
    return UnverifiedTlsCredentials(ssl);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  if (credentials == nullptr) {
    return absl::InvalidArgumentError("gRPC refused the TLS options (SslCredentials failed)");
  }
  return credentials;
}

}  // namespace etcdgrpc::internal
