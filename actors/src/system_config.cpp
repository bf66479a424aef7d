#include "p2p0mq/actors/system_config.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <caf/config_option_adder.hpp>

#include "p2p0mq/actors/types.hpp"
#include "p2p0mq/errc.hpp"

namespace p2p0mq {

system_config::system_config() {
  p2p0mq::add_message_types(*this);
  auto workers = std::max(2u, std::thread::hardware_concurrency());
  set("scheduler.max-threads", static_cast<std::size_t>(workers));
  // Idle workers go from busy polling straight to waiting on a condition
  // variable: measured on 2 cores, this halves the round trip through a pair
  // of local peers and halves their idle CPU (see BENCHMARKS.md).
  set("work-stealing.moderate-poll-attempts", std::size_t{0});
  // An idle worker wakes up every relaxed-sleep-duration to try stealing
  // work; CAF's 10 ms made an idle pair of local peers cost about 1 % of a
  // core. Work from outside the pool (a socket thread) still wakes it at
  // once, so 100 ms costs no latency (measured: 0.15 % idle CPU).
  set("work-stealing.relaxed-sleep-duration",
      caf::timespan{std::chrono::milliseconds{100}});
  caf::config_option_adder{custom_options_, "p2p0mq"}
      .add(settings.uuid, "uuid", "uuid of the local peer (default: generated)")
      .add(settings.host, "host", "host the receiver binds to and announces")
      .add(settings.port, "port", "port the receiver binds to (0: any)")
      .add(settings.heart_beat_interval, "heart-beat-interval",
           "time between two heart-beats of an answering peer")
      .add(settings.heart_beat_slow_down, "heart-beat-slow-down",
           "what each unanswered heart-beat adds to the interval")
      .add(settings.heart_beat_max_slow_down, "heart-beat-max-slow-down",
           "the most the slow-down adds to the interval")
      .add(settings.unresponsive_threshold, "unresponsive-threshold",
           "silence after which a peer becomes UNREACHABLE")
      .add(settings.no_connection_threshold, "no-connection-threshold",
           "silence after which a peer becomes NO_CONNECTION")
      .add(settings.reconnect_wait, "reconnect-wait",
           "wait before a NO_CONNECTION peer is tried again")
      .add(settings.ask_around_interval, "ask-around-interval",
           "least time between two ask-arounds for one target")
      .add(settings.message_ttl, "message-ttl",
           "time an outgoing message may wait to be sent")
      .add(settings.store_sync_interval, "store-sync-interval",
           "time between two syncs with the peer store")
      .add(settings.database, "database",
           "SQLite file of the peer store (default: none, peers in memory)")
      .add(settings.store_lock_wait, "store-lock-wait",
           "longest wait for a lock on the peer store's database")
      .add(settings.send_queue_limit, "send-queue-limit",
           "the most messages the send queues hold")
      .add(settings.tick_interval, "tick-interval",
           "time between two ticks of the concerns")
      .add(settings.send_retry_delay, "send-retry-delay",
           "wait before a message is tried again")
      .add(settings.send_blocked_delay, "send-blocked-delay",
           "wait before the first message in line for a full pipe is tried "
           "again")
      .add(settings.send_high_water_mark, "send-high-water-mark",
           "most messages ZeroMQ queues for one peer when sending")
      .add(settings.receive_high_water_mark, "receive-high-water-mark",
           "most messages ZeroMQ queues from one peer when receiving")
      .add(settings.unprocessed_batch_limit, "unprocessed-batch-limit",
           "most received batches the dispatcher holds unhandled (0: no limit)")
      .add(settings.receiver_inline_resumes, "receiver-inline-resumes",
           "most actors the receiver runs on its thread per turn (0: none)")
      .add(settings.max_frame_size, "max-frame-size",
           "largest message part the receiver accepts, in bytes")
      .add(settings.max_peers, "max-peers",
           "the most peer records kept (0: no limit)")
      .add(settings.concern_max_restarts, "concern-max-restarts",
           "the most restarts of a failing concern within the window")
      .add(settings.concern_restart_window, "concern-restart-window",
           "window over which concern restarts are counted")
      .add(settings.encryption, "encryption",
           "CURVE encryption and authentication on both sockets")
      .add(settings.public_cert_dir, "public-cert-dir",
           "public certificates: our own and those of trusted peers")
      .add(settings.private_cert_dir, "private-cert-dir",
           "secret certificates of local peers")
      .add(settings.certificate_reload_interval, "certificate-reload-interval",
           "time between two readings of the public certificates")
      .add(settings.call_timeout, "call-timeout",
           "longest a blocking local_peer call waits")
      .add(settings.default_route, "default-route",
           "uuid of the peer messages without a route go through")
      .add(settings.ask_around_legacy_peers, "ask-around-legacy-peers",
           "ask peers that did not announce ask-around (Python peers) too")
      .add(settings.concern_grace_period, "concern-grace-period",
           "how long messages for a concern that went down are held")
      .add(settings.concern_grace_limit, "concern-grace-limit",
           "the most messages held for one command in its grace period")
      .add(settings.concern_queue_limit, "concern-queue-limit",
           "the most messages waiting in one concern's mailbox (0: no bound)")
      .add(settings.log_summary_interval, "log-summary-interval",
           "least time between two log lines of one source about its input")
      .add(settings.log_max_sources, "log-max-sources",
           "the most sources of bad input the log follows one by one");
  // -- discovery: begin --
  auto& d = settings.discovery;
  caf::config_option_adder{custom_options_, "discovery"}
      .add(d.beacons, "beacons", "send and hear LAN beacons (off by default)")
      .add(d.interface, "interface",
           "interface of the beacons (default: first broadcast one)")
      .add(d.port, "port", "UDP port of the beacons")
      .add(d.interval, "interval", "time between two beacons")
      .add(d.beacons_per_source, "beacons-per-source",
           "most beacons taken from one address per interval")
      .add(d.beacon_peers_per_interval, "beacon-peers-per-interval",
           "most new peers beacons add per interval")
      .add(d.target_degree, "target-degree",
           "direct links the peer exchange keeps (0: no exchange)")
      .add(d.exchange_interval, "exchange-interval",
           "time between two exchanges at the target degree")
      .add(d.exchange_sample, "exchange-sample",
           "most addresses in one exchange message")
      .add(d.exchange_dials, "exchange-dials",
           "most peers dialled after one exchange");
  // -- discovery: end --
}

caf::error system_config::take_booleans(string_list& args) {
  booleans_.clear();
  for (auto i = args.begin(); i != args.end();) {
    const auto& arg = *i;
    if (arg == "--")
      break;
    auto eq = arg.find('=');
    if (arg.compare(0, 2, "--") != 0 || eq == std::string::npos) {
      ++i;
      continue;
    }
    auto name = arg.substr(2, eq - 2);
    auto opt = custom_options_.cli_long_name_lookup(name);
    if (opt == nullptr || !opt->is_flag()) {
      ++i;
      continue;
    }
    auto text = arg.substr(eq + 1);
    bool value = false;
    if (text == "true")
      value = true;
    else if (text != "false")
      return make_error(errc::invalid_config,
                        arg + ": a boolean option takes true or false (or no "
                              "value, for true)");
    std::string full{opt->full_name().begin(), opt->full_name().end()};
    booleans_.emplace_back(std::move(full), value);
    i = args.erase(i);
  }
  return caf::none;
}

void system_config::apply_booleans() {
  for (auto& [name, value] : booleans_)
    set(name, value);
  booleans_.clear();
}

caf::error system_config::parse(string_list args, const char* ini_file_cstr) {
  if (auto err = take_booleans(args))
    return err;
  if (auto err =
          caf::actor_system_config::parse(std::move(args), ini_file_cstr))
    return err;
  apply_booleans();
  return caf::none;
}

caf::error system_config::parse(string_list args, std::istream& ini) {
  if (auto err = take_booleans(args))
    return err;
  if (auto err = caf::actor_system_config::parse(std::move(args), ini))
    return err;
  apply_booleans();
  return caf::none;
}

caf::error system_config::parse(int argc, char** argv,
                                const char* ini_file_cstr) {
  string_list args;
  if (argc > 1)
    args.assign(argv + 1, argv + argc);
  return parse(std::move(args), ini_file_cstr);
}

caf::error system_config::parse(int argc, char** argv, std::istream& ini) {
  string_list args;
  if (argc > 1)
    args.assign(argv + 1, argv + argc);
  return parse(std::move(args), ini);
}

std::string system_config::options_help() const {
  std::string out;
  for (const auto& opt : custom_options_) {
    if (opt.category() != "p2p0mq")
      continue;
    auto value = opt.get();
    std::string line = "  --";
    line.append(opt.full_name().begin(), opt.full_name().end());
    line += '=';
    if (value)
      line += caf::to_string(*value);
    out += line;
    out += "\n      ";
    out.append(opt.description().begin(), opt.description().end());
    out += '\n';
  }
  return out;
}

} // namespace p2p0mq
