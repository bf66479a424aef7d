// p2p0mq-keygen: creates the CURVE key pair of a peer as two certificate
// files in pyzmq's format, `PUBLIC/<uuid>.key` and
// `PRIVATE/<uuid>.key_secret`; with `--tls`, the X.509 certificate and key
// of remote concerns instead, `PUBLIC/<name>.crt` and
// `PRIVATE/<name>.crt_secret`.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "p2p0mq/actors/remote.hpp"
#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"

namespace {

constexpr const char* usage_text =
    "usage: p2p0mq-keygen --uuid ID [--certs DIR | --public DIR --private "
    "DIR]\n"
    "                     [--force] [--print] [--show]\n"
    "       p2p0mq-keygen --tls --uuid NAME [--certs DIR] [--days N] "
    "[--force]\n\n"
    "Creates the CURVE key pair of peer ID: PUBLIC/ID.key and\n"
    "PRIVATE/ID.key_secret, readable by pyzmq's zmq.auth.load_certificate.\n"
    "With --tls, creates the TLS certificate of remote concerns instead: a\n"
    "self-signed X.509 certificate DIR/public/NAME.crt (common name NAME)\n"
    "and its key DIR/private/NAME.crt_secret; a process trusts the\n"
    "certificates *.crt of its public directory.\n\n"
    "  --uuid ID       the peer's uuid\n"
    "  --certs DIR     PUBLIC is DIR/public, PRIVATE is DIR/private\n"
    "                  (default: the directory p2p0mq-node uses by default)\n"
    "  --public DIR    directory of public certificates\n"
    "  --private DIR   directory of secret certificates (made with mode "
    "0700)\n"
    "  --force         replace existing certificates of ID\n"
    "  --print         print the new public key (Z85) on standard output\n"
    "  --show          create nothing: check the existing pair of ID and\n"
    "                  print its public key\n"
    "  --tls           make the TLS certificate of remote concerns\n"
    "  --days N        with --tls: valid for N days (default 3650)\n"
    "  --help          print this text\n";

int fail(int code, const std::string& text) {
  std::fprintf(stderr, "p2p0mq-keygen: %s\n", text.c_str());
  return code;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string uuid;
  std::string certs;
  std::string public_dir;
  std::string private_dir;
  bool force = false;
  bool print = false;
  bool show = false;
  bool tls = false;
  std::string days = "3650";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& flag = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size() || args[i + 1].empty())
        return false;
      out = args[++i];
      return true;
    };
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage_text, stdout);
      return 0;
    } else if (flag == "--uuid" || flag == "--certs" || flag == "--public" ||
               flag == "--private") {
      auto& out = flag == "--uuid"     ? uuid
                  : flag == "--certs"  ? certs
                  : flag == "--public" ? public_dir
                                       : private_dir;
      if (!value(out))
        return fail(2, flag + " needs a value");
    } else if (flag == "--force") {
      force = true;
    } else if (flag == "--print") {
      print = true;
    } else if (flag == "--show") {
      show = true;
    } else if (flag == "--tls") {
      tls = true;
    } else if (flag == "--days") {
      if (!value(days))
        return fail(2, flag + " needs a value");
    } else {
      return fail(2, "unknown flag " + flag + " (see --help)");
    }
  }
  if (uuid.empty())
    return fail(2, "--uuid is required (see --help)");
  if (uuid.size() < p2p0mq::min_uuid_size)
    return fail(2, "--uuid: the uuid must have at least " +
                       std::to_string(p2p0mq::min_uuid_size) + " bytes");
  if (!certs.empty() && (!public_dir.empty() || !private_dir.empty()))
    return fail(2, "--certs and --public/--private exclude each other");
  if (public_dir.empty() != private_dir.empty())
    return fail(2, "--public and --private go together");
  if (!certs.empty()) {
    // A mistyped --certs would be made silently: only DIR itself may be new.
    auto parent = std::filesystem::path{certs}.parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
      return fail(2, "--certs " + certs + ": its parent directory " +
                         parent.string() + " does not exist");
  }
  if (certs.empty() && public_dir.empty())
    certs = p2p0mq::default_cert_dir();
  if (tls) {
    if (certs.empty())
      return fail(2, "--tls takes --certs DIR, not --public/--private");
    if (show || print)
      return fail(2, "--tls makes a certificate; --show and --print are for "
                     "CURVE key pairs");
    auto n = std::atoi(days.c_str());
    if (n <= 0)
      return fail(2, "--days: a positive number of days");
    if (auto err = p2p0mq::make_remote_certificate(certs, uuid, force, n))
      return fail(1, p2p0mq::render(err));
    std::fprintf(stderr,
                 "p2p0mq-keygen: wrote %s/public/%s.crt and "
                 "%s/private/%s.crt_secret\n",
                 certs.c_str(), uuid.c_str(), certs.c_str(), uuid.c_str());
    return 0;
  }
  if (!certs.empty()) {
    public_dir = certs + "/public";
    private_dir = certs + "/private";
  }
  if (public_dir.empty())
    return fail(2, "no directory: pass --certs, or set HOME");
  p2p0mq::cert_store store{public_dir, private_dir};
  auto pub_path = store.public_path(uuid);
  auto sec_path = store.secret_path(uuid);
  if (!pub_path || !sec_path)
    return fail(2, "--uuid: " + p2p0mq::render(pub_path ? sec_path.error()
                                                        : pub_path.error()));
  if (show) {
    auto keys = store.load_own(uuid);
    if (!keys)
      return fail(1, p2p0mq::render(keys.error()));
    auto pub = store.public_key(uuid);
    if (!pub)
      return fail(1, p2p0mq::render(pub.error()));
    if (*pub != keys->public_key)
      return fail(1, *pub_path + " and " + *sec_path +
                         " hold different public keys");
    std::printf("%s\n", pub->c_str());
    return 0;
  }
  std::error_code ec;
  for (const auto& path : {*pub_path, *sec_path})
    if (!force && std::filesystem::exists(path, ec))
      return fail(1, path + " exists; --force replaces it");
  if (auto err = store.ensure_dirs())
    return fail(1, p2p0mq::render(err));
  auto keys = p2p0mq::make_curve_key_pair();
  if (!keys)
    return fail(1, p2p0mq::render(keys.error()));
  if (auto err = p2p0mq::write_certificate(*sec_path, *keys, 0600))
    return fail(1, p2p0mq::render(err));
  if (auto err = p2p0mq::write_certificate(
          *pub_path, p2p0mq::curve_key_pair{keys->public_key, {}}, 0644))
    return fail(1, p2p0mq::render(err));
  if (print)
    std::printf("%s\n", keys->public_key.c_str());
  std::fprintf(stderr, "p2p0mq-keygen: wrote %s and %s\n", pub_path->c_str(),
               sec_path->c_str());
  return 0;
}
