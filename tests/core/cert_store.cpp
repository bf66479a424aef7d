#include "p2p0mq/cert_store.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <zmq.h>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"
#include "support/log_capture.hpp"

namespace fs = std::filesystem;

using p2p0mq::cert_store;
using p2p0mq::curve_key_pair;
using p2p0mq::errc;
using p2p0mq::public_certificate;

namespace {

/// A fresh directory under the system's temporary directory, removed with
/// everything in it at the end of the test.
struct temp_dir {
  fs::path path;

  temp_dir()
      : path(fs::temp_directory_path() /
             ("p2p0mq-cert-store-" + p2p0mq::make_uuid())) {
    fs::create_directories(path);
  }

  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }

  std::string operator/(const std::string& name) const {
    return (path / name).string();
  }
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary};
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777u;
}

bool contains(const std::string& str, char c) {
  return str.find(c) != std::string::npos;
}

/// Returns a key pair whose public and secret keys both hold '=' and '#',
/// found by trying random secrets (about one in fifty qualifies).
curve_key_pair key_pair_with_equals_and_hash() {
  std::mt19937 gen{42};
  std::uniform_int_distribution<int> byte{0, 255};
  for (int attempt = 0; attempt < 100000; ++attempt) {
    uint8_t secret[32];
    for (auto& x : secret)
      x = static_cast<uint8_t>(byte(gen));
    char sec[41];
    char pub[41];
    REQUIRE(zmq_z85_encode(sec, secret, 32) != nullptr);
    REQUIRE(zmq_curve_public(pub, sec) == 0);
    curve_key_pair result{pub, sec};
    if (contains(result.public_key, '=') && contains(result.public_key, '#') &&
        contains(result.secret_key, '=') && contains(result.secret_key, '#'))
      return result;
  }
  FAIL("found no key pair holding '=' and '#'");
  return {};
}

/// A secret certificate as pyzmq's `zmq.auth.create_certificates` writes it.
std::string pyzmq_secret_file(const curve_key_pair& keys) {
  return "#   ****  Generated on 2024-03-01 12:34:56.789012 by pyzmq  ****\n"
         "#   ZeroMQ CURVE **Secret** Certificate\n"
         "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its "
         "permissions.\n"
         "\n"
         "metadata\n"
         "curve\n"
         "    public-key = \"" +
         keys.public_key +
         "\"\n"
         "    secret-key = \"" +
         keys.secret_key + "\"\n";
}

/// Checks that `x` failed with `code` and a context naming `path`.
template <class T>
void check_error(const caf::expected<T>& x, errc code,
                 const std::string& path) {
  REQUIRE_FALSE(x);
  INFO("error: " << p2p0mq::render(x.error()));
  CHECK(x.error() == code);
  CHECK_THAT(p2p0mq::context_of(x.error()),
             Catch::Matchers::StartsWith(path + ": "));
}

} // namespace

TEST_CASE("make_curve_key_pair returns two valid Z85 keys that belong "
          "together",
          "[cert_store]") {
  auto keys = p2p0mq::make_curve_key_pair();
  REQUIRE(keys);
  CHECK(p2p0mq::is_z85_key(keys->public_key));
  CHECK(p2p0mq::is_z85_key(keys->secret_key));
  char pub[41];
  REQUIRE(zmq_curve_public(pub, keys->secret_key.c_str()) == 0);
  CHECK(keys->public_key == std::string(pub, 40));
  auto other = p2p0mq::make_curve_key_pair();
  REQUIRE(other);
  CHECK(other->secret_key != keys->secret_key);
}

TEST_CASE("is_z85_key accepts only 40 decodable Z85 characters",
          "[cert_store]") {
  auto keys = p2p0mq::make_curve_key_pair();
  REQUIRE(keys);
  CHECK(p2p0mq::is_z85_key(keys->public_key));
  CHECK_FALSE(p2p0mq::is_z85_key(keys->public_key.substr(0, 39)));
  CHECK_FALSE(p2p0mq::is_z85_key(keys->public_key + "0"));
  CHECK_FALSE(p2p0mq::is_z85_key(""));
  auto bad = keys->public_key;
  bad[7] = '"';
  CHECK_FALSE(p2p0mq::is_z85_key(bad));
  bad[7] = '\0';
  CHECK_FALSE(p2p0mq::is_z85_key(bad));
  // Valid characters, but "#####" is above 2^32 and does not decode.
  CHECK_FALSE(p2p0mq::is_z85_key(std::string(40, '#')));
}

TEST_CASE("a written certificate reads back with the same keys",
          "[cert_store]") {
  temp_dir dir;
  auto keys = p2p0mq::make_curve_key_pair();
  REQUIRE(keys);
  auto sec_path = dir / "peer.key_secret";
  auto pub_path = dir / "peer.key";
  REQUIRE_FALSE(p2p0mq::write_certificate(sec_path, *keys, 0600));
  REQUIRE_FALSE(p2p0mq::write_certificate(
      pub_path, curve_key_pair{keys->public_key, {}}, 0644));
  auto sec = p2p0mq::read_certificate(sec_path, true);
  REQUIRE(sec);
  CHECK(sec->public_key == keys->public_key);
  CHECK(sec->secret_key == keys->secret_key);
  auto pub = p2p0mq::read_certificate(pub_path, false);
  REQUIRE(pub);
  CHECK(pub->public_key == keys->public_key);
  CHECK(pub->secret_key.empty());
  CHECK(mode_of(sec_path) == 0600u);
}

TEST_CASE("written certificates look like pyzmq's", "[cert_store]") {
  curve_key_pair keys{std::string(40, 'a'), std::string(40, 'b')};
  auto sec = p2p0mq::format_certificate(keys);
  CHECK_THAT(sec, Catch::Matchers::StartsWith("#   ****  Generated on "));
  CHECK_THAT(sec, Catch::Matchers::Contains(" by p2p0mq  ****\n"
                                            "#   ZeroMQ CURVE **Secret** "
                                            "Certificate\n"
                                            "#   DO NOT PROVIDE THIS FILE TO "
                                            "OTHER USERS nor change its "
                                            "permissions.\n\n"));
  CHECK_THAT(sec, Catch::Matchers::EndsWith("\n\nmetadata\ncurve\n"
                                            "    public-key = \"" +
                                            keys.public_key +
                                            "\"\n"
                                            "    secret-key = \"" +
                                            keys.secret_key + "\"\n"));
  auto pub = p2p0mq::format_certificate({keys.public_key, {}});
  CHECK_THAT(pub, Catch::Matchers::Contains(
                      " by p2p0mq  ****\n"
                      "#   ZeroMQ CURVE Public Certificate\n"
                      "#   Exchange securely, or use a secure mechanism to "
                      "verify the contents\n"));
  CHECK_THAT(pub, Catch::Matchers::EndsWith("\n\nmetadata\ncurve\n"
                                            "    public-key = \"" +
                                            keys.public_key + "\"\n"));
}

TEST_CASE("a certificate written by pyzmq parses", "[cert_store]") {
  auto keys = p2p0mq::make_curve_key_pair();
  REQUIRE(keys);
  auto text = pyzmq_secret_file(*keys);
  auto sec = p2p0mq::parse_certificate(text, "peer.key_secret", true);
  REQUIRE(sec);
  CHECK(sec->public_key == keys->public_key);
  CHECK(sec->secret_key == keys->secret_key);
  auto pub = p2p0mq::parse_certificate(text, "peer.key", false);
  REQUIRE(pub);
  CHECK(pub->public_key == keys->public_key);
  CHECK(pub->secret_key.empty());
}

TEST_CASE("keys holding '=' and '#' parse as they are", "[cert_store]") {
  auto keys = key_pair_with_equals_and_hash();
  INFO("public: " << keys.public_key << ", secret: " << keys.secret_key);
  auto sec = p2p0mq::parse_certificate(pyzmq_secret_file(keys), "x", true);
  REQUIRE(sec);
  CHECK(sec->public_key == keys.public_key);
  CHECK(sec->secret_key == keys.secret_key);
  temp_dir dir;
  auto path = dir / "x.key_secret";
  REQUIRE_FALSE(p2p0mq::write_certificate(path, keys, 0600));
  auto read = p2p0mq::read_certificate(path, true);
  REQUIRE(read);
  CHECK(read->public_key == keys.public_key);
  CHECK(read->secret_key == keys.secret_key);
}

TEST_CASE("comment lines holding quotes and keys are ignored", "[cert_store]") {
  auto keys = p2p0mq::make_curve_key_pair();
  REQUIRE(keys);
  auto text = "# a \"quoted\" comment: public-key = \"nothing\n"
              "   # an indented comment with \" and = in it\n"
              "metadata\n"
              "    name = \"a # b = c\"  # trailing comment\n"
              "curve  # the keys\n"
              "    public-key = \"" +
              keys->public_key + "\"   # trailing \"comment\"\n";
  auto pub = p2p0mq::parse_certificate(text, "x", false);
  REQUIRE(pub);
  CHECK(pub->public_key == keys->public_key);
}

TEST_CASE("damaged certificate files fail with an error naming the file",
          "[cert_store]") {
  temp_dir dir;
  auto keys = p2p0mq::make_curve_key_pair();
  REQUIRE(keys);
  auto path = dir / "damaged.key";
  auto with_public_key = [](const std::string& key) {
    return "metadata\ncurve\n    public-key = \"" + key + "\"\n";
  };
  auto bad_char = keys->public_key;
  bad_char[3] = '~';
  std::vector<std::pair<std::string, std::string>> cases{
      {"a character outside Z85", with_public_key(bad_char)},
      {"a key of 39 characters", with_public_key(keys->public_key.substr(1))},
      {"no curve section",
       "metadata\n    public-key = \"" + keys->public_key + "\"\n"},
      {"no public-key", "metadata\ncurve\n"},
      {"an empty file", ""},
      {"an unclosed quote",
       "curve\n    public-key = \"" + keys->public_key + "\n"},
      {"odd indentation",
       "curve\n   public-key = \"" + keys->public_key + "\"\n"},
  };
  for (const auto& [what, text] : cases) {
    SECTION(what) {
      write_file(path, text);
      check_error(p2p0mq::read_certificate(path, false), errc::bad_certificate,
                  path);
    }
  }
  SECTION("a secret certificate without secret-key") {
    write_file(path, with_public_key(keys->public_key));
    check_error(p2p0mq::read_certificate(path, true), errc::bad_certificate,
                path);
  }
  SECTION("a secret-key that does not belong to the public-key") {
    auto other = p2p0mq::make_curve_key_pair();
    REQUIRE(other);
    write_file(path, pyzmq_secret_file({keys->public_key, other->secret_key}));
    check_error(p2p0mq::read_certificate(path, true), errc::bad_certificate,
                path);
  }
  SECTION("a missing file") {
    check_error(p2p0mq::read_certificate(dir / "none.key", false),
                errc::missing_certificate, dir / "none.key");
  }
}

TEST_CASE("load_or_create_own generates a pair once and loads it after",
          "[cert_store]") {
  temp_dir dir;
  cert_store store{dir / "public", dir / "deep/private"};
  auto keys = store.load_or_create_own("peer-1");
  REQUIRE(keys);
  CHECK(mode_of(dir / "deep/private") == 0700u);
  CHECK(mode_of(dir / "deep/private/peer-1.key_secret") == 0600u);
  CHECK_THAT(read_file(dir / "public/peer-1.key"),
             !Catch::Matchers::Contains("secret-key"));
  auto again = store.load_or_create_own("peer-1");
  REQUIRE(again);
  CHECK(again->public_key == keys->public_key);
  CHECK(again->secret_key == keys->secret_key);
  auto own = store.load_own("peer-1");
  REQUIRE(own);
  CHECK(own->secret_key == keys->secret_key);
  auto pub = store.public_key("peer-1");
  REQUIRE(pub);
  CHECK(*pub == keys->public_key);
  SECTION("a lost public file is written again from the secret one") {
    fs::remove(dir / "public/peer-1.key");
    auto restored = store.load_or_create_own("peer-1");
    REQUIRE(restored);
    CHECK(restored->secret_key == keys->secret_key);
    auto pub2 = store.public_key("peer-1");
    REQUIRE(pub2);
    CHECK(*pub2 == keys->public_key);
  }
  SECTION("a public file of another pair is an error") {
    auto other = p2p0mq::make_curve_key_pair();
    REQUIRE(other);
    REQUIRE_FALSE(p2p0mq::write_certificate(dir / "public/peer-1.key",
                                            {other->public_key, {}}, 0644));
    check_error(store.load_or_create_own("peer-1"), errc::bad_certificate,
                dir / "public/peer-1.key");
  }
}

TEST_CASE("a new key pair is announced at the default log level, naming "
          "both files, loading it again is silent",
          "[cert_store][log]") {
  auto& log = p2p0mq::testing::log_capture::install();
  REQUIRE(p2p0mq::log_enabled(p2p0mq::log_level::warning,
                              p2p0mq::log_category::security));
  temp_dir dir;
  cert_store store{dir / "public", dir / "private"};
  auto mark = log.mark();
  REQUIRE(store.load_or_create_own("peer-1"));
  CHECK(log.count(mark, {"warning security: new identity: peer-1",
                         dir / "private/peer-1.key_secret",
                         dir / "public/peer-1.key"}) == 1);
  mark = log.mark();
  REQUIRE(store.load_or_create_own("peer-1"));
  CHECK(log.count(mark, {}) == 0);
}

TEST_CASE("ensure_dirs creates the private directory with mode 0700",
          "[cert_store]") {
  temp_dir dir;
  cert_store store{dir / "a/public", dir / "b/private"};
  REQUIRE_FALSE(store.ensure_dirs());
  CHECK(fs::is_directory(dir / "a/public"));
  CHECK(mode_of(dir / "b/private") == 0700u);
  REQUIRE_FALSE(store.ensure_dirs());
}

TEST_CASE("a public certificate without its secret one is an error",
          "[cert_store]") {
  temp_dir dir;
  cert_store store{dir / "public", dir / "private"};
  REQUIRE_FALSE(store.ensure_dirs());
  auto keys = p2p0mq::make_curve_key_pair();
  REQUIRE(keys);
  REQUIRE_FALSE(p2p0mq::write_certificate(dir / "public/peer.key",
                                          {keys->public_key, {}}, 0644));
  auto res = store.load_or_create_own("peer");
  check_error(res, errc::missing_certificate, dir / "private/peer.key_secret");
  CHECK_THAT(p2p0mq::context_of(res.error()),
             Catch::Matchers::Contains(dir / "public/peer.key"));
  CHECK_FALSE(fs::exists(dir / "private/peer.key_secret"));
}

TEST_CASE("uuids that cannot name a file are rejected", "[cert_store]") {
  temp_dir dir;
  cert_store store{dir / "public", dir / "private"};
  for (std::string uuid :
       {std::string{}, std::string{"."}, std::string{".."}, std::string{"a/b"},
        std::string{"../x"}, std::string{"a\0b", 3}}) {
    INFO("uuid of " << uuid.size() << " bytes");
    auto keys = store.load_or_create_own(uuid);
    REQUIRE_FALSE(keys);
    CHECK(keys.error() == errc::invalid_uuid);
    auto pub = store.public_key(uuid);
    REQUIRE_FALSE(pub);
    CHECK(pub.error() == errc::invalid_uuid);
    auto own = store.load_own(uuid);
    REQUIRE_FALSE(own);
    CHECK(own.error() == errc::invalid_uuid);
  }
  CHECK_FALSE(fs::exists(dir / "private"));
  // Opaque bytes other than '/' and NUL are fine.
  CHECK(store.load_or_create_own("x.y z\xff"));
}

TEST_CASE("public_certificates returns the uuid and key of every parsable "
          ".key file",
          "[cert_store]") {
  temp_dir dir;
  cert_store store{dir / "public", dir / "private"};
  CHECK(store.public_certificates().empty());
  auto a = store.load_or_create_own("a");
  auto b = store.load_or_create_own("b");
  REQUIRE(a);
  REQUIRE(b);
  write_file(dir / "public/broken.key", "metadata\n");
  write_file(dir / "public/notes.txt", "curve\n");
  auto certs = store.public_certificates();
  CHECK(certs == std::vector<public_certificate>{{"a", a->public_key},
                                                 {"b", b->public_key}});
}

TEST_CASE("share_with copies a public certificate into another store",
          "[cert_store]") {
  temp_dir dir;
  cert_store a{dir / "a/public", dir / "a/private"};
  cert_store b{dir / "b/public", dir / "b/private"};
  auto keys = a.load_or_create_own("peer-a");
  REQUIRE(keys);
  check_error(b.public_key("peer-a"), errc::missing_certificate,
              dir / "b/public/peer-a.key");
  REQUIRE(!a.share_with("peer-a", b));
  CHECK(b.public_key("peer-a") == keys->public_key);
  // Sharing again, or within one directory, changes nothing.
  CHECK(!a.share_with("peer-a", b));
  CHECK(!a.share_with("peer-a", a));
  CHECK(a.share_with("nobody", b) == errc::missing_certificate);
}
