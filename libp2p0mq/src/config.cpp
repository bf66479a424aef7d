#include "p2p0mq/config.hpp"

#include <cstdlib>
#include <string>

#include "p2p0mq/errc.hpp"

namespace p2p0mq {

namespace {

/// Describes `x` in the coarsest unit that holds it exactly, e.g. "40 s",
/// "1500 ms" or "-3 ns", so that error messages show the value as set.
std::string describe(duration x) {
  using namespace std::chrono;
  auto ns = duration_cast<nanoseconds>(x).count();
  if (ns % 1'000'000'000 == 0)
    return std::to_string(ns / 1'000'000'000) + " s";
  if (ns % 1'000'000 == 0)
    return std::to_string(ns / 1'000'000) + " ms";
  if (ns % 1'000 == 0)
    return std::to_string(ns / 1'000) + " us";
  return std::to_string(ns) + " ns";
}

caf::error invalid(const char* setting, const std::string& what) {
  return make_error(errc::invalid_config, std::string{setting} + ": " + what);
}

/// One duration setting and whether zero is a valid value for it.
struct duration_setting {
  const char* name;
  duration value;
  bool may_be_zero;
};

} // namespace

caf::error config::validate() const {
  if (!uuid.empty() && uuid.size() < min_uuid_size)
    return invalid("uuid", "must be empty or at least " +
                               std::to_string(min_uuid_size) +
                               " bytes long, got " +
                               std::to_string(uuid.size()) + " bytes");
  if (host.empty())
    return invalid("host", "must not be empty");
  const duration_setting durations[] = {
      {"heart_beat_interval", heart_beat_interval, false},
      {"heart_beat_slow_down", heart_beat_slow_down, true},
      {"heart_beat_max_slow_down", heart_beat_max_slow_down, true},
      {"unresponsive_threshold", unresponsive_threshold, false},
      {"no_connection_threshold", no_connection_threshold, false},
      {"reconnect_wait", reconnect_wait, false},
      {"ask_around_interval", ask_around_interval, false},
      {"message_ttl", message_ttl, false},
      {"store_sync_interval", store_sync_interval, false},
      {"store_lock_wait", store_lock_wait, true},
      {"tick_interval", tick_interval, false},
      {"send_retry_delay", send_retry_delay, false},
      {"send_blocked_delay", send_blocked_delay, false},
      {"concern_restart_window", concern_restart_window, false},
      {"call_timeout", call_timeout, false},
      {"certificate_reload_interval", certificate_reload_interval, false},
      {"concern_grace_period", concern_grace_period, true},
      {"log_summary_interval", log_summary_interval, false},
  };
  for (const auto& x : durations) {
    if (x.may_be_zero && x.value < duration::zero())
      return invalid(x.name, "must not be negative, got " + describe(x.value));
    if (!x.may_be_zero && x.value <= duration::zero())
      return invalid(x.name,
                     "must be greater than zero, got " + describe(x.value));
  }
  if (send_high_water_mark < 0)
    return invalid("send_high_water_mark",
                   "must not be negative (0: no limit), got " +
                       std::to_string(send_high_water_mark));
  if (receive_high_water_mark < 0)
    return invalid("receive_high_water_mark",
                   "must not be negative (0: no limit), got " +
                       std::to_string(receive_high_water_mark));
  if (log_max_sources < 1)
    return invalid("log_max_sources", "must be at least 1, got 0");
  if (max_frame_size < 1024)
    return invalid("max_frame_size", "must be at least 1024 bytes, got " +
                                         std::to_string(max_frame_size));
  if (unresponsive_threshold >= no_connection_threshold)
    return invalid("unresponsive_threshold",
                   "must be less than no_connection_threshold (" +
                       describe(no_connection_threshold) + "), got " +
                       describe(unresponsive_threshold));
  if (!default_route.empty() && default_route.size() < min_uuid_size)
    return invalid("default_route",
                   "must be empty or a uuid of at least " +
                       std::to_string(min_uuid_size) + " bytes, got " +
                       std::to_string(default_route.size()) + " bytes");
  if (!default_route.empty() && default_route == uuid)
    return invalid("default_route", "must not be the local peer's own uuid");
  // -- discovery: begin --
  if (discovery.beacons && discovery.port == 0)
    return invalid("discovery.port", "must not be 0 with beacons on");
  if (discovery.beacons && discovery.interval <= duration::zero())
    return invalid("discovery.interval",
                   "must be positive, got " + describe(discovery.interval));
  if (discovery.beacons_per_source < 1)
    return invalid("discovery.beacons_per_source", "must be at least 1");
  if (discovery.exchange_interval <= duration::zero())
    return invalid("discovery.exchange_interval",
                   "must be positive, got " +
                       describe(discovery.exchange_interval));
  if (discovery.exchange_sample < 1 ||
      discovery.exchange_sample > max_exchange_sample)
    return invalid("discovery.exchange_sample",
                   "must be from 1 to " + std::to_string(max_exchange_sample) +
                       ", got " + std::to_string(discovery.exchange_sample));
  if (discovery.target_degree > 0 && discovery.exchange_dials < 1)
    return invalid("discovery.exchange_dials", "must be at least 1");
  // -- discovery: end --
  if (encryption && public_certs().empty())
    return invalid("public_cert_dir",
                   "encryption is on, and neither the setting nor "
                   "XDG_DATA_HOME or HOME name a directory");
  if (encryption && private_certs().empty())
    return invalid("private_cert_dir",
                   "encryption is on, and neither the setting nor "
                   "XDG_DATA_HOME or HOME name a directory");
  return {};
}

std::string config::public_certs() const {
  return public_cert_dir.empty() ? default_public_cert_dir() : public_cert_dir;
}

std::string config::private_certs() const {
  return private_cert_dir.empty() ? default_private_cert_dir()
                                  : private_cert_dir;
}

std::string default_cert_dir() {
  auto non_empty = [](const char* name) -> std::string {
    auto value = std::getenv(name);
    return value ? value : "";
  };
  if (auto data = non_empty("XDG_DATA_HOME"); !data.empty())
    return data + "/p2p0mq/certificates";
  if (auto home = non_empty("HOME"); !home.empty())
    return home + "/.local/share/p2p0mq/certificates";
  return {};
}

std::string default_public_cert_dir() {
  auto dir = default_cert_dir();
  return dir.empty() ? dir : dir + "/public";
}

std::string default_private_cert_dir() {
  auto dir = default_cert_dir();
  return dir.empty() ? dir : dir + "/private";
}

} // namespace p2p0mq
