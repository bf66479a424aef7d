#include "p2p0mq/cert_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"

namespace fs = std::filesystem;

namespace p2p0mq {

namespace {

constexpr size_t z85_key_size = 40;

constexpr std::string_view z85_chars =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ".-:+=^!/*?&<>()[]{}@%$#";

caf::error bad(const std::string& name, const std::string& what) {
  return make_error(errc::bad_certificate, name + ": " + what);
}

caf::error io_error(const std::string& name, const std::string& what, int err) {
  return make_error(errc::certificate_io,
                    name + ": " + what + ": " + std::strerror(err));
}

/// Why `key` is not a valid Z85 key, or an empty string if it is one.
std::string z85_problem(const std::string& key) {
  if (key.size() != z85_key_size)
    return "has " + std::to_string(key.size()) + " characters, expected 40";
  for (auto c : key)
    if (c == '\0' || z85_chars.find(c) == std::string_view::npos)
      return "holds a character outside Z85";
  uint8_t bytes[32];
  if (zmq_z85_decode(bytes, key.c_str()) == nullptr)
    return "does not decode from Z85";
  return {};
}

/// One `name = value` entry of a ZPL line, after its indentation.
struct zpl_entry {
  std::string name;
  std::string value;
  bool has_value = false;
};

/// Parses the part of a ZPL line after its indentation. Quoted values end at
/// their closing quote, so `=` and `#` inside them are plain characters; only
/// after the value may a `#` start a comment.
bool parse_entry(const std::string& line, size_t pos, zpl_entry& out,
                 std::string& problem) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  auto start = pos;
  while (pos < line.size() && !is_space(line[pos]) && line[pos] != '=' &&
         line[pos] != '#')
    ++pos;
  out.name = line.substr(start, pos - start);
  if (out.name.empty()) {
    problem = "a line has no name";
    return false;
  }
  while (pos < line.size() && is_space(line[pos]))
    ++pos;
  if (pos < line.size() && line[pos] == '=') {
    ++pos;
    while (pos < line.size() && is_space(line[pos]))
      ++pos;
    out.has_value = true;
    if (pos < line.size() && (line[pos] == '"' || line[pos] == '\'')) {
      auto quote = line[pos++];
      auto end = line.find(quote, pos);
      if (end == std::string::npos) {
        problem = "the value of " + out.name + " has no closing quote";
        return false;
      }
      out.value = line.substr(pos, end - pos);
      pos = end + 1;
    } else {
      start = pos;
      while (pos < line.size() && !is_space(line[pos]) && line[pos] != '#')
        ++pos;
      out.value = line.substr(start, pos - start);
    }
    while (pos < line.size() && is_space(line[pos]))
      ++pos;
  }
  if (pos < line.size() && line[pos] != '#') {
    problem = "unexpected text after " + out.name;
    return false;
  }
  return true;
}

/// Checks that `uuid` can name a file.
caf::error check_uuid(const std::string& uuid) {
  if (uuid.empty() || uuid == "." || uuid == "..")
    return make_error(errc::invalid_uuid,
                      "the uuid \"" + uuid + "\" cannot name a file");
  if (uuid.find('/') != std::string::npos ||
      uuid.find('\0') != std::string::npos)
    return make_error(errc::invalid_uuid,
                      "a uuid that names a file holds no '/' or NUL");
  return {};
}

std::string now_text() {
  auto t = std::time(nullptr);
  std::tm parts{};
  localtime_r(&t, &parts);
  char buf[32];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &parts);
  return std::string(buf, n);
}

} // namespace

caf::expected<curve_key_pair> make_curve_key_pair() {
  char pub[z85_key_size + 1];
  char sec[z85_key_size + 1];
  if (zmq_curve_keypair(pub, sec) != 0)
    return make_error(errc::socket_error, std::string{"zmq_curve_keypair: "} +
                                              zmq_strerror(zmq_errno()));
  return curve_key_pair{std::string(pub, z85_key_size),
                        std::string(sec, z85_key_size)};
}

bool is_z85_key(const std::string& key) {
  return z85_problem(key).empty();
}

caf::expected<curve_key_pair> parse_certificate(const std::string& text,
                                                const std::string& name,
                                                bool want_secret) {
  std::istringstream in{text};
  std::string line;
  std::string section;
  bool has_curve = false;
  bool has_public = false;
  bool has_secret = false;
  curve_key_pair result;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto pos = line.find_first_not_of(' ');
    if (pos == std::string::npos || line[pos] == '#')
      continue;
    auto where = "line " + std::to_string(line_no) + ": ";
    if (line[pos] == '\t')
      return bad(name, where + "indented with a tab");
    if (pos % 4 != 0)
      return bad(name, where + "indented by " + std::to_string(pos) +
                           " spaces, not a multiple of 4");
    zpl_entry entry;
    std::string problem;
    if (!parse_entry(line, pos, entry, problem))
      return bad(name, where + problem);
    auto level = pos / 4;
    if (level == 0) {
      section = entry.name;
      has_curve = has_curve || section == "curve";
      continue;
    }
    if (level != 1 || section != "curve")
      continue; // Metadata and deeper levels do not concern us.
    if (entry.name == "public-key") {
      if (has_public)
        return bad(name, where + "a second public-key");
      if (auto p = z85_problem(entry.value); !p.empty())
        return bad(name, where + "public-key " + p);
      result.public_key = entry.value;
      has_public = true;
    } else if (entry.name == "secret-key") {
      if (has_secret)
        return bad(name, where + "a second secret-key");
      if (auto p = z85_problem(entry.value); !p.empty())
        return bad(name, where + "secret-key " + p);
      result.secret_key = entry.value;
      has_secret = true;
    }
  }
  if (!has_curve)
    return bad(name, "no curve section");
  if (!has_public)
    return bad(name, "no public-key in the curve section");
  if (want_secret) {
    if (!has_secret)
      return bad(name, "no secret-key in the curve section");
    char derived[z85_key_size + 1];
    if (zmq_curve_public(derived, result.secret_key.c_str()) != 0 ||
        result.public_key != std::string(derived, z85_key_size))
      return bad(name, "public-key does not belong to secret-key");
  } else {
    // A public certificate never hands out a secret, even if it holds one.
    result.secret_key.clear();
  }
  return result;
}

std::string format_certificate(const curve_key_pair& keys) {
  // pyzmq's banners, word for word but for the generator's name.
  std::string result =
      "#   ****  Generated on " + now_text() + " by p2p0mq  ****\n";
  if (keys.secret_key.empty()) {
    result += "#   ZeroMQ CURVE Public Certificate\n"
              "#   Exchange securely, or use a secure mechanism to verify "
              "the contents\n"
              "#   of this file after exchange. Store public certificates "
              "in your home\n"
              "#   directory, in the .curve subdirectory.\n";
  } else {
    result += "#   ZeroMQ CURVE **Secret** Certificate\n"
              "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its "
              "permissions.\n";
  }
  result += "\nmetadata\ncurve\n    public-key = \"" + keys.public_key + "\"\n";
  if (!keys.secret_key.empty())
    result += "    secret-key = \"" + keys.secret_key + "\"\n";
  return result;
}

caf::expected<curve_key_pair> read_certificate(const std::string& path,
                                               bool want_secret) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return make_error(errc::missing_certificate, path + ": no such file");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return io_error(path, "cannot open", errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return io_error(path, "cannot read", errno);
  return parse_certificate(text.str(), path, want_secret);
}

caf::error write_certificate(const std::string& path,
                             const curve_key_pair& keys, unsigned mode) {
  auto text = format_certificate(keys);
  auto fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   static_cast<mode_t>(mode));
  if (fd < 0)
    return io_error(path, "cannot create", errno);
  // The file may exist already with wider permissions: narrow them before
  // writing a secret into it.
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    auto err = errno;
    ::close(fd);
    return io_error(path, "cannot set permissions", err);
  }
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      auto err = errno;
      ::close(fd);
      return io_error(path, "cannot write", err);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0)
    return io_error(path, "cannot write", errno);
  return {};
}

cert_store::cert_store(std::string public_dir, std::string private_dir)
    : public_dir_(std::move(public_dir)), private_dir_(std::move(private_dir)) {
  // nop
}

caf::error cert_store::ensure_dirs() const {
  std::error_code ec;
  fs::create_directories(public_dir_, ec);
  if (ec)
    return io_error(public_dir_, "cannot create directory", ec.value());
  if (fs::is_directory(private_dir_, ec))
    return {};
  auto parent = fs::path{private_dir_}.parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec)
      return io_error(parent.string(), "cannot create directory", ec.value());
  }
  if (::mkdir(private_dir_.c_str(), 0700) != 0 && errno != EEXIST)
    return io_error(private_dir_, "cannot create directory", errno);
  // mkdir applies the umask, which could take more than it leaves here.
  if (::chmod(private_dir_.c_str(), 0700) != 0)
    return io_error(private_dir_, "cannot set permissions", errno);
  return {};
}

caf::expected<std::string>
cert_store::public_path(const std::string& uuid) const {
  if (auto err = check_uuid(uuid))
    return err;
  return (fs::path{public_dir_} / (uuid + ".key")).string();
}

caf::expected<std::string>
cert_store::secret_path(const std::string& uuid) const {
  if (auto err = check_uuid(uuid))
    return err;
  return (fs::path{private_dir_} / (uuid + ".key_secret")).string();
}

caf::expected<std::string>
cert_store::public_key(const std::string& uuid) const {
  auto path = public_path(uuid);
  if (!path)
    return path.error();
  auto keys = read_certificate(*path, false);
  if (!keys)
    return keys.error();
  return std::move(keys->public_key);
}

caf::expected<curve_key_pair>
cert_store::load_own(const std::string& uuid) const {
  auto path = secret_path(uuid);
  if (!path)
    return path.error();
  return read_certificate(*path, true);
}

caf::expected<curve_key_pair>
cert_store::load_or_create_own(const std::string& uuid) const {
  auto pub_path = public_path(uuid);
  if (!pub_path)
    return pub_path.error();
  auto sec_path = secret_path(uuid);
  if (!sec_path)
    return sec_path.error();
  std::error_code ec;
  auto has_pub = fs::exists(*pub_path, ec);
  auto has_sec = fs::exists(*sec_path, ec);
  if (has_pub && !has_sec)
    return make_error(errc::missing_certificate,
                      *sec_path + ": missing, but its public certificate " +
                          *pub_path +
                          " exists; restore the secret certificate or "
                          "remove both to generate a new pair");
  if (has_sec) {
    auto keys = read_certificate(*sec_path, true);
    if (!keys)
      return keys.error();
    if (has_pub) {
      auto pub = read_certificate(*pub_path, false);
      if (!pub)
        return pub.error();
      if (pub->public_key != keys->public_key)
        return bad(*pub_path,
                   "public-key differs from the one in " + *sec_path);
      return keys;
    }
    if (auto err = ensure_dirs())
      return err;
    if (auto err = write_certificate(
            *pub_path, curve_key_pair{keys->public_key, {}}, 0644))
      return err;
    return keys;
  }
  if (auto err = ensure_dirs())
    return err;
  auto keys = make_curve_key_pair();
  if (!keys)
    return keys.error();
  // The secret first: a public file alone is an error at the next start.
  if (auto err = write_certificate(*sec_path, *keys, 0600))
    return err;
  if (auto err = write_certificate(*pub_path,
                                   curve_key_pair{keys->public_key, {}}, 0644))
    return err;
  // A new identity is worth a line at the default level: a mistyped
  // directory shows here, and the public file is what other peers need.
  log(log_level::warning, log_category::security, "new identity: ", uuid,
      " had no key pair, so one was made: ", *sec_path, " (secret) and ",
      *pub_path, " (public: copy it to the peers that should trust ", uuid,
      ")");
  return keys;
}

std::vector<public_certificate> cert_store::public_certificates() const {
  std::vector<fs::path> paths;
  std::error_code ec;
  fs::directory_iterator i{public_dir_, ec};
  if (ec)
    return {};
  for (fs::directory_iterator end; i != end; i.increment(ec)) {
    if (ec)
      break;
    const auto& p = i->path();
    if (p.extension() == ".key" && i->is_regular_file(ec))
      paths.push_back(p);
  }
  std::sort(paths.begin(), paths.end());
  std::vector<public_certificate> result;
  for (const auto& path : paths) {
    if (auto keys = read_certificate(path.string(), false))
      result.push_back({path.stem().string(), std::move(keys->public_key)});
    else
      log(log_level::warning, log_category::security,
          "skipping certificate: ", render(keys.error()));
  }
  return result;
}

caf::error cert_store::share_with(const std::string& uuid,
                                  const cert_store& other) const {
  auto key = public_key(uuid);
  if (!key)
    return std::move(key.error());
  auto target = other.public_path(uuid);
  if (!target)
    return std::move(target.error());
  std::error_code ec;
  if (fs::equivalent(public_dir_, other.public_dir_, ec))
    return caf::none;
  fs::create_directories(other.public_dir_, ec);
  if (ec)
    return make_error(errc::certificate_io,
                      other.public_dir_ + ": " + ec.message());
  return write_certificate(*target, curve_key_pair{*key, {}}, 0644);
}

} // namespace p2p0mq
