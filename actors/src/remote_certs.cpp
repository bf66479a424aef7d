#include "remote_certs.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2p0mq/errc.hpp"

namespace p2p0mq::detail {

namespace {

namespace fs = std::filesystem;

struct bio_free {
  void operator()(BIO* x) const {
    BIO_free(x);
  }
};
struct x509_free {
  void operator()(X509* x) const {
    X509_free(x);
  }
};
struct pkey_free {
  void operator()(EVP_PKEY* x) const {
    EVP_PKEY_free(x);
  }
};

using bio_ptr = std::unique_ptr<BIO, bio_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

caf::error io_error(const std::string& what) {
  return make_error(errc::certificate_io, what);
}

/// Writes `text` to `path` with `mode` through a temporary file in the same
/// directory, renamed into place.
caf::error write_atomically(const std::string& path, const std::string& text,
                            mode_t mode) {
  auto tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out{tmp, std::ios::binary | std::ios::trunc};
    if (!out)
      return io_error("cannot write " + tmp);
    ::chmod(tmp.c_str(), mode);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      return io_error("cannot write " + tmp);
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return io_error("cannot rename " + tmp + " to " + path);
  }
  return caf::none;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  auto size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size))
                  : std::string{};
}

x509_ptr read_certificate(const std::string& path) {
  bio_ptr bio{BIO_new_file(path.c_str(), "r")};
  if (!bio)
    return nullptr;
  return x509_ptr{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
}

/// Passes the passphrase to OpenSSL without prompting on a terminal.
int passphrase_cb(char* buf, int size, int, void* user) {
  auto& text = *static_cast<const std::string*>(user);
  if (size <= 0)
    return 0;
  auto n = std::min(text.size(), static_cast<std::size_t>(size - 1));
  std::copy_n(text.data(), n, buf);
  buf[n] = '\0';
  return static_cast<int>(n);
}

bool is_readable_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

} // namespace

caf::error make_tls_certificate(const std::string& cert_path,
                                const std::string& key_path,
                                const std::string& name, int days) {
  ERR_clear_error();
  pkey_ptr key{EVP_EC_gen("P-256")};
  x509_ptr cert{X509_new()};
  if (!key || !cert)
    return io_error("cannot make a key: " + drain_tls_errors());
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1)
    return io_error("no random serial: " + drain_tls_errors());
  serial[0] &= 0x7f; // a positive number
  auto* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  auto ok =
      bn != nullptr &&
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  ok = ok && X509_set_version(cert.get(), 2) == 1;
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) != nullptr;
  ok = ok && X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0,
                              nullptr) != nullptr;
  ok = ok && X509_set_pubkey(cert.get(), key.get()) == 1;
  auto* subject = X509_get_subject_name(cert.get());
  ok = ok && X509_NAME_add_entry_by_txt(
                 subject, "CN", MBSTRING_UTF8,
                 reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                 0) == 1;
  ok = ok && X509_set_issuer_name(cert.get(), subject) == 1;
  if (ok) {
    // A self-signed end entity: it cannot sign others, it can only be
    // trusted itself.
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    for (auto [nid, value] :
         {std::pair{NID_basic_constraints, "CA:FALSE"},
          std::pair{NID_key_usage, "digitalSignature"},
          std::pair{NID_ext_key_usage, "serverAuth,clientAuth"}}) {
      auto* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      ok = ok && ext != nullptr && X509_add_ext(cert.get(), ext, -1) == 1;
      X509_EXTENSION_free(ext);
    }
  }
  ok = ok && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok)
    return io_error("cannot make a certificate: " + drain_tls_errors());
  bio_ptr cert_bio{BIO_new(BIO_s_mem())};
  bio_ptr key_bio{BIO_new(BIO_s_mem())};
  if (!cert_bio || !key_bio ||
      PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1)
    return io_error("cannot encode the certificate: " + drain_tls_errors());
  if (auto err = write_atomically(key_path, bio_text(key_bio.get()), 0600))
    return err;
  return write_atomically(cert_path, bio_text(cert_bio.get()), 0644);
}

caf::error check_tls_identity(const std::string& cert_path,
                              const std::string& key_path,
                              const std::string& passphrase) {
  ERR_clear_error();
  for (auto& path : {cert_path, key_path})
    if (!is_readable_file(path))
      return make_error(errc::missing_certificate, "no file " + path);
  auto cert = read_certificate(cert_path);
  if (!cert)
    return make_error(errc::bad_certificate,
                      cert_path +
                          " holds no PEM certificate: " + drain_tls_errors());
  bio_ptr bio{BIO_new_file(key_path.c_str(), "r")};
  auto phrase = passphrase;
  pkey_ptr key{
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_cb, &phrase)
          : nullptr};
  if (!key)
    return make_error(errc::bad_certificate,
                      key_path + " holds no PEM private key" +
                          (passphrase.empty() ? " (or it needs a passphrase)"
                                              : " for that passphrase") +
                          ": " + drain_tls_errors());
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return make_error(errc::bad_certificate,
                      key_path + " is not the key of " + cert_path);
  ERR_clear_error();
  return caf::none;
}

std::string tls_common_name(const std::string& cert_path) {
  auto cert = read_certificate(cert_path);
  if (!cert)
    return {};
  char buf[256] = {0};
  auto n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()),
                                     NID_commonName, buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string{};
}

caf::error gather_trusted(const std::string& trusted,
                          const std::string& own_cert,
                          const std::string& bundle, trusted_gathered& out) {
  out = trusted_gathered{};
  if (!read_certificate(own_cert)) {
    ERR_clear_error();
    return make_error(errc::bad_certificate,
                      own_cert + " holds no PEM certificate");
  }
  std::vector<std::string> files;
  std::error_code ec;
  fs::directory_iterator it{trusted, ec};
  if (ec)
    return io_error("cannot read the trusted directory " + trusted + ": " +
                    ec.message());
  for (; it != fs::directory_iterator{}; it.increment(ec)) {
    if (ec)
      return io_error("cannot read the trusted directory " + trusted + ": " +
                      ec.message());
    if (it->path().extension() == ".crt" && it->is_regular_file(ec))
      files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  files.push_back(own_cert);
  bio_ptr pem{BIO_new(BIO_s_mem())};
  if (!pem)
    return io_error("out of memory");
  std::vector<x509_ptr> seen;
  for (auto& file : files) {
    auto cert = read_certificate(file);
    if (!cert) {
      ++out.skipped;
      continue;
    }
    auto duplicate = std::any_of(seen.begin(), seen.end(), [&](auto& x) {
      return X509_cmp(x.get(), cert.get()) == 0;
    });
    if (duplicate)
      continue;
    if (PEM_write_bio_X509(pem.get(), cert.get()) != 1)
      return io_error("cannot encode " + file);
    ++out.certificates;
    seen.push_back(std::move(cert));
  }
  ERR_clear_error();
  auto text = bio_text(pem.get());
  std::ifstream in{bundle, std::ios::binary};
  if (in) {
    std::ostringstream old;
    old << in.rdbuf();
    if (old.str() == text)
      return caf::none;
  }
  if (auto err = write_atomically(bundle, text, 0644))
    return err;
  out.written = true;
  return caf::none;
}

std::string drain_tls_errors() {
  std::string result;
  const char* data = nullptr;
  int flags = 0;
  while (auto code =
             ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    if (!result.empty())
      result += "; ";
    auto* reason = ERR_reason_error_string(code);
    result += reason != nullptr ? reason : "error " + std::to_string(code);
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      result += " (";
      result += data;
      result += ')';
    }
  }
  return result;
}

} // namespace p2p0mq::detail
