#include "node/options.hpp"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <system_error>

#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/groups.hpp"
#include "p2p0mq/log.hpp"

namespace p2p0mq::node {

namespace {

caf::error bad(const std::string& flag, const std::string& what) {
  return make_error(errc::invalid_config, flag + ": " + what);
}

template <class T>
bool parse_number(const std::string& text, T& out) {
  auto first = text.data();
  auto last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc{} && ptr == last;
}

bool parse_seconds(const std::string& text, double& out) {
  if (text.empty())
    return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && out >= 0;
}

} // namespace

caf::error parse_host_port(const std::string& text, std::string& host,
                           std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return bad(text, "expected HOST:PORT");
  host = text.substr(0, colon);
  if (!parse_number(text.substr(colon + 1), port))
    return bad(text, "port must be a number from 0 to 65535");
  return caf::none;
}

caf::expected<peer_address> parse_peer_address(const std::string& text) {
  auto at = text.find('@');
  if (at == std::string::npos)
    return bad(text, "expected ID@HOST:PORT");
  peer_address result;
  result.uuid = text.substr(0, at);
  if (result.uuid.size() < min_uuid_size)
    return bad(text, "the peer id must have at least 4 bytes");
  if (auto err = parse_host_port(text.substr(at + 1), result.host, result.port))
    return err;
  if (result.port == 0)
    return bad(text, "the peer's port must not be 0");
  return result;
}

namespace {

/// Checks a `--log-level` value; with `apply`, also sets the levels.
caf::error log_levels(const std::string& spec, bool apply) {
  if (spec.empty())
    return make_error(errc::invalid_config, "expected a level");
  std::size_t start = 0;
  for (;;) {
    auto end = spec.find(',', start);
    auto part = spec.substr(start, end == std::string::npos ? std::string::npos
                                                            : end - start);
    auto eq = part.find('=');
    auto level_name = eq == std::string::npos ? part : part.substr(eq + 1);
    auto level = parse_log_level(level_name);
    if (!level)
      return make_error(errc::invalid_config,
                        "'" + level_name +
                            "' is not a level (error, warning, info, debug, "
                            "trace)");
    if (eq == std::string::npos) {
      if (apply)
        set_log_level(*level);
    } else {
      auto cat_name = part.substr(0, eq);
      auto cat = parse_log_category(cat_name);
      if (!cat)
        return make_error(errc::invalid_config,
                          "'" + cat_name +
                              "' is not a category (wire, connector, "
                              "heart-beat, router, security, store, concerns, "
                              "sender, app)");
      if (apply)
        set_log_level(*cat, *level);
    }
    if (end == std::string::npos)
      return caf::none;
    start = end + 1;
  }
}

caf::error check_log_levels(const std::string& spec) {
  return log_levels(spec, false);
}

} // namespace

caf::error apply_log_levels(const std::string& spec) {
  return log_levels(spec, true);
}

caf::expected<options> parse(const std::vector<std::string>& args) {
  options result;
  bool count_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& flag = args[i];
    auto value = [&](std::string& out) -> caf::error {
      if (i + 1 >= args.size())
        return bad(flag, "needs a value");
      out = args[++i];
      return caf::none;
    };
    std::string text;
    if (flag == "--help" || flag == "-h") {
      result.help = true;
    } else if (flag == "--version") {
      result.version = true;
    } else if (flag == "--uuid") {
      if (auto err = value(result.uuid))
        return err;
      if (result.uuid.size() < min_uuid_size)
        return bad(flag, "the uuid must have at least 4 bytes");
    } else if (flag == "--bind") {
      if (auto err = value(text))
        return err;
      if (auto err = parse_host_port(text, result.host, result.port))
        return err;
      result.bind_given = true;
    } else if (flag == "--peer") {
      if (auto err = value(text))
        return err;
      auto addr = parse_peer_address(text);
      if (!addr)
        return std::move(addr.error());
      result.peers.emplace_back(std::move(*addr));
    } else if (flag == "--db") {
      if (auto err = value(result.database))
        return err;
      if (result.database.empty())
        return bad(flag, "expected a file name");
    } else if (flag == "--no-encryption") {
      result.encryption = false;
    } else if (flag == "--certs") {
      if (auto err = value(result.certs))
        return err;
      if (result.certs.empty())
        return bad(flag, "needs a directory");
      // A mistyped directory would be created silently, with a new
      // identity in it: only DIR itself may be new.
      auto parent = std::filesystem::path{result.certs}.parent_path();
      std::error_code ec;
      if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
        return bad(flag + " " + result.certs,
                   "its parent directory " + parent.string() +
                       " does not exist (a new DIR is created, not its "
                       "parents)");
    } else if (flag == "--duration") {
      if (auto err = value(text))
        return err;
      if (!parse_seconds(text, result.duration))
        return bad(flag, "expected seconds (0 or more), got '" + text + "'");
    } else if (flag == "--json") {
      result.json = true;
    } else if (flag == "--echo") {
      result.echo = true;
    } else if (flag == "--join") {
      std::string group;
      if (auto err = value(group))
        return err;
      if (auto err = check_group_name(group))
        return bad(flag, context_of(err));
      result.join.push_back(std::move(group));
    } else if (flag == "--publish") {
      if (auto err = value(result.publish))
        return err;
      if (auto err = check_group_name(result.publish))
        return bad(flag, context_of(err));
    } else if (flag == "--ping") {
      if (auto err = value(result.ping))
        return err;
    } else if (flag == "--count") {
      if (auto err = value(text))
        return err;
      if (!parse_number(text, result.count) || result.count < 1)
        return bad(flag, "expected a count of 1 or more, got '" + text + "'");
      count_given = true;
    } else if (flag == "--interval") {
      if (auto err = value(text))
        return err;
      if (!parse_seconds(text, result.interval))
        return bad(flag, "expected seconds, got '" + text + "'");
    } else if (flag == "--ping-timeout") {
      if (auto err = value(text))
        return err;
      if (!parse_seconds(text, result.ping_timeout) || result.ping_timeout <= 0)
        return bad(flag, "expected seconds above 0, got '" + text + "'");
    } else if (flag == "--route-via") {
      if (auto err = value(result.route_via))
        return err;
      if (result.route_via.size() < min_uuid_size)
        return bad(flag, "the peer id must have at least 4 bytes");
    } else if (flag == "--log-level") {
      if (auto err = value(result.log_level))
        return err;
      if (auto err = check_log_levels(result.log_level))
        return bad(flag, context_of(err));
    } else if (flag == "--metrics") {
      if (auto err = value(text))
        return err;
      result.metrics = true;
      if (text.find(':') == std::string::npos)
        text = "127.0.0.1:" + text;
      if (auto err =
              parse_host_port(text, result.metrics_host, result.metrics_port))
        return err;
    } else if (flag == "--topology") {
      if (auto err = value(result.topology))
        return err;
      if (result.topology.empty())
        return bad(flag, "needs a file name");
    } else if (flag == "--discover") {
      result.discover = true;
    } else if (flag == "--target-degree") {
      if (auto err = value(text))
        return err;
      if (!parse_number(text, result.target_degree) || result.target_degree < 1)
        return bad(flag, "expected a number of 1 or more, got '" + text + "'");
    } else if (flag == "--watch") {
      result.watch = true;
    } else if (flag.rfind("--", 0) == 0 &&
               flag.substr(0, flag.find('=')).find('.') != std::string::npos) {
      // CAF's own options, e.g. --p2p0mq.heart-beat-interval=2s, or a
      // boolean alone: --p2p0mq.encryption.
      result.caf_args.emplace_back(flag);
    } else if (flag == "--config-file" || flag == "--config") {
      // CAF's own parser reads the file; it takes the form with '='.
      if (auto err = value(text))
        return err;
      result.caf_args.emplace_back("--config-file=" + text);
    } else if (flag.rfind("--config-file=", 0) == 0) {
      result.caf_args.emplace_back(flag);
    } else if (flag.rfind("--config=", 0) == 0) {
      result.caf_args.emplace_back("--config-file=" + flag.substr(9));
    } else {
      return bad(flag, "unknown flag (see --help)");
    }
  }
  if (count_given && result.ping.empty() && result.publish.empty())
    return bad("--count", "only makes sense with --ping or --publish");
  if (!result.ping.empty() && !result.publish.empty())
    return bad("--publish", "cannot be combined with --ping");
  return result;
}

std::string usage() {
  std::string out;
  out += "usage: p2p0mq-node [flags]\n\n";
  out += "Runs one local peer of a p2p0mq network.\n\n";
  out += "  --uuid ID               uuid of this peer (default: generated)\n";
  out += "  --bind HOST:PORT        receiver address (default: 127.0.0.1:0,"
         " any port)\n";
  out += "  --peer ID@HOST:PORT     a peer to connect to (repeatable)\n";
  out += "  --db FILE               SQLite peer store: the uuid and the peers"
         " survive a restart\n"
         "                          (default: none, peers in memory only)\n";
  out +=
      "  --certs DIR             certificates in DIR/public and DIR/private,"
      " made on the\n                          first start (DIR's parent must"
      " exist; default:\n                          " +
      (default_cert_dir().empty() ? std::string{"none"} : default_cert_dir()) +
      ")\n";
  out += "  --no-encryption         plain TCP, no CURVE (peers must agree)\n";
  out += "  --duration SECONDS      run this long, 0 = until SIGINT/SIGTERM"
         " (default: 0)\n";
  out += "  --json                  every 0.5 s one JSON line with the peer"
         " table\n";
  out += "  --echo                  answer `echo` requests\n";
  out += "  --ping ID               send echo requests to peer ID once it is"
         " reachable\n";
  out += "  --route-via ID          send messages for peers without a"
         " route through peer ID\n";
  out += "  --join GROUP            join GROUP at start (repeatable)\n";
  out += "  --publish GROUP         once another member of GROUP is known,"
         " publish --count\n"
         "                          messages {\"seq\": i, \"text\": ...} to"
         " it\n";
  out += "  --count N               number of pings or publications"
         " (default: 4)\n";
  out += "  --interval SECONDS      time between pings (default: 0.2)\n";
  out += "  --ping-timeout SECONDS  wait for each answer, and for the target"
         " to become\n"
         "                          reachable (default: 5)\n";
  out += "  --log-level SPEC        LEVEL (error, warning, info, debug, trace)"
         " for every\n"
         "                          category, CATEGORY=LEVEL for one, or a"
         " list:\n"
         "                          warning,security=debug (default:"
         " warning)\n";
  out += "  --metrics [HOST:]PORT   serve Prometheus metrics at"
         " /metrics (HOST:\n"
         "                          127.0.0.1 unless given)\n";
  out += "  --topology FILE         write the known peers as Graphviz DOT"
         " (.svg: render\n"
         "                          with dot) every second and at the end\n";
  out += "  --watch                 the live table, also while pinging\n";
  out += "  --discover              LAN beacons (UDP broadcast, see the"
         " [discovery]\n"
         "                          settings) and the peer exchange"
         " (target degree 8\n"
         "                          unless --target-degree says otherwise)\n";
  out += "  --target-degree N       keep N direct links with the peer"
         " exchange (no\n"
         "                          beacons without --discover)\n";
  out += "  --config FILE           CAF config file, e.g. a [p2p0mq] section"
         " (also\n"
         "                          --config-file)\n";
  out += "  --version               print the version\n";
  out += "  --help                  print this text\n\n";
  out += "Tunables (CAF options, also in the [p2p0mq] section of the config"
         " file),\nwith their defaults:\n";
  out += system_config{}.options_help();
  return out;
}

} // namespace p2p0mq::node
