#pragma once

// Settings for local peers in tests: a port of the system's choice, and
// certificates in a temporary directory of this test process (removed at
// exit), shared by every peer that uses these settings, so they trust each
// other. Tests of security make directories of their own.

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "p2p0mq/config.hpp"

namespace p2p0mq::testing {

/// A directory made with `mkdtemp` and removed with its contents when the
/// object is destroyed.
class temp_dir {
public:
  temp_dir() {
    auto base = std::filesystem::temp_directory_path() / "p2p0mq-test-XXXXXX";
    auto pattern = base.string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  /// `path() + "/" + name`.
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

private:
  std::string path_;
};

/// The certificate directory every peer made by `test_settings` shares.
inline const temp_dir& shared_cert_dir() {
  static temp_dir dir;
  return dir;
}

/// Settings for a local peer on 127.0.0.1, any free port, with encryption on
/// and certificates in `shared_cert_dir()`.
inline config test_settings(const std::string& uuid = {}) {
  config result;
  result.uuid = uuid;
  result.host = "127.0.0.1";
  result.port = 0;
  result.public_cert_dir = shared_cert_dir() / "public";
  result.private_cert_dir = shared_cert_dir() / "private";
  return result;
}

} // namespace p2p0mq::testing
