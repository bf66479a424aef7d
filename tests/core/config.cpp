#include "p2p0mq/config.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "p2p0mq/errc.hpp"

using namespace std::chrono_literals;
using p2p0mq::config;
using p2p0mq::duration;

namespace {

/// One duration setting of `config`, for table-driven checks.
struct duration_setting {
  const char* name;
  duration config::*member;
  bool may_be_zero;
};

const duration_setting duration_settings[] = {
    {"heart_beat_interval", &config::heart_beat_interval, false},
    {"heart_beat_slow_down", &config::heart_beat_slow_down, true},
    {"heart_beat_max_slow_down", &config::heart_beat_max_slow_down, true},
    {"unresponsive_threshold", &config::unresponsive_threshold, false},
    {"no_connection_threshold", &config::no_connection_threshold, false},
    {"reconnect_wait", &config::reconnect_wait, false},
    {"ask_around_interval", &config::ask_around_interval, false},
    {"message_ttl", &config::message_ttl, false},
    {"store_sync_interval", &config::store_sync_interval, false},
    {"store_lock_wait", &config::store_lock_wait, true},
    {"tick_interval", &config::tick_interval, false},
    {"send_retry_delay", &config::send_retry_delay, false},
    {"send_blocked_delay", &config::send_blocked_delay, false},
    {"concern_restart_window", &config::concern_restart_window, false},
    {"call_timeout", &config::call_timeout, false},
    {"concern_grace_period", &config::concern_grace_period, true},
    {"log_summary_interval", &config::log_summary_interval, false},
};

/// Checks that `err` is an `invalid_config` error naming `setting`.
void check_invalid(const caf::error& err, const std::string& setting) {
  INFO("error: " << p2p0mq::render(err));
  REQUIRE(err);
  CHECK(err == p2p0mq::errc::invalid_config);
  CHECK_THAT(p2p0mq::context_of(err),
             Catch::Matchers::StartsWith(setting + ": "));
}

} // namespace

TEST_CASE("the config defaults are the ones of DESIGN.md", "[config]") {
  config cfg;
  CHECK(cfg.heart_beat_interval == 4s);
  CHECK(cfg.heart_beat_slow_down == 2s);
  CHECK(cfg.heart_beat_max_slow_down == 10s);
  CHECK(cfg.unresponsive_threshold == 40s);
  CHECK(cfg.no_connection_threshold == 240s);
  CHECK(cfg.reconnect_wait == 120s);
  CHECK(cfg.ask_around_interval == 60s);
  CHECK(cfg.message_ttl == 30s);
  CHECK(cfg.store_sync_interval == 10s);
  CHECK(cfg.store_lock_wait == 5s);
  CHECK(cfg.database.empty());
  CHECK(cfg.uuid.empty());
  CHECK(cfg.host == "127.0.0.1");
  CHECK(cfg.port == 0);
  CHECK(p2p0mq::min_uuid_size == 4);
}

TEST_CASE("the settings of the actor layer have their documented defaults",
          "[config]") {
  config cfg;
  CHECK(cfg.send_queue_limit == 100000);
  CHECK(cfg.tick_interval == 1s);
  CHECK(cfg.send_retry_delay == 250ms);
  CHECK(cfg.send_blocked_delay == 1ms);
  CHECK(cfg.send_high_water_mark == 10000);
  CHECK(cfg.receive_high_water_mark == 10000);
  CHECK(cfg.max_frame_size == 1024 * 1024);
  CHECK(cfg.unprocessed_batch_limit == 8);
  CHECK(cfg.receiver_inline_resumes == 256);
  CHECK(cfg.max_peers == 1000);
  CHECK(cfg.concern_max_restarts == 5);
  CHECK(cfg.concern_restart_window == 60s);
  CHECK(cfg.call_timeout == 10s);
  CHECK(cfg.concern_grace_period == 0s);
  CHECK(cfg.concern_grace_limit == 1000);
  CHECK(cfg.concern_queue_limit == 10000);
  CHECK(cfg.log_summary_interval == 10s);
  CHECK(cfg.log_max_sources == 64);
}

TEST_CASE("a log limiter that follows no source is invalid", "[config]") {
  config cfg;
  cfg.log_max_sources = 0;
  check_invalid(cfg.validate(), "log_max_sources");
  cfg.log_max_sources = 1;
  CHECK_FALSE(cfg.validate());
}

TEST_CASE("the default config is valid", "[config]") {
  auto err = config{}.validate();
  INFO(p2p0mq::render(err));
  CHECK_FALSE(err);
}

TEST_CASE("a config with a uuid of 4 bytes and no slow-down is valid",
          "[config]") {
  config cfg;
  cfg.uuid = "abcd";
  cfg.heart_beat_slow_down = 0s;
  cfg.heart_beat_max_slow_down = 0s;
  cfg.port = 8402;
  auto err = cfg.validate();
  INFO(p2p0mq::render(err));
  CHECK_FALSE(err);
}

TEST_CASE("a zero interval is invalid except for the slow-down settings",
          "[config]") {
  for (const auto& x : duration_settings) {
    INFO("setting " << x.name);
    config cfg;
    cfg.*x.member = duration::zero();
    auto err = cfg.validate();
    if (x.may_be_zero) {
      CHECK_FALSE(err);
    } else {
      check_invalid(err, x.name);
      CHECK_THAT(p2p0mq::context_of(err), Catch::Matchers::Contains("0 s"));
    }
  }
}

TEST_CASE("a negative interval is invalid for every duration setting",
          "[config]") {
  for (const auto& x : duration_settings) {
    INFO("setting " << x.name);
    config cfg;
    cfg.*x.member = -1500ms;
    auto err = cfg.validate();
    check_invalid(err, x.name);
    CHECK_THAT(p2p0mq::context_of(err), Catch::Matchers::Contains("-1500 ms"));
  }
}

TEST_CASE("a uuid of 3 bytes is invalid", "[config]") {
  config cfg;
  cfg.uuid = "abc";
  auto err = cfg.validate();
  check_invalid(err, "uuid");
  CHECK_THAT(p2p0mq::context_of(err), Catch::Matchers::Contains("3 bytes"));
}

TEST_CASE("an unresponsive threshold not below the no-connection threshold "
          "is invalid",
          "[config]") {
  auto threshold = GENERATE(240s, 300s);
  config cfg;
  REQUIRE(cfg.no_connection_threshold == 240s);
  cfg.unresponsive_threshold = threshold;
  check_invalid(cfg.validate(), "unresponsive_threshold");
  CHECK_THAT(p2p0mq::context_of(cfg.validate()),
             Catch::Matchers::Contains("no_connection_threshold"));
}

TEST_CASE("an empty host is invalid", "[config]") {
  config cfg;
  cfg.host.clear();
  check_invalid(cfg.validate(), "host");
}

TEST_CASE("negative high-water marks and tiny frame limits are invalid",
          "[config]") {
  {
    config cfg;
    cfg.send_high_water_mark = -1;
    check_invalid(cfg.validate(), "send_high_water_mark");
  }
  {
    config cfg;
    cfg.receive_high_water_mark = -5;
    check_invalid(cfg.validate(), "receive_high_water_mark");
  }
  {
    config cfg;
    cfg.max_frame_size = 100;
    check_invalid(cfg.validate(), "max_frame_size");
  }
  config unlimited;
  unlimited.send_high_water_mark = 0;
  unlimited.receive_high_water_mark = 0;
  CHECK(!unlimited.validate());
}

TEST_CASE("a default route is empty by default, and else a uuid other than "
          "our own",
          "[config]") {
  config cfg;
  CHECK(cfg.default_route.empty());
  cfg.uuid = "peer-a-0001";
  cfg.default_route = "peer-b-0002";
  CHECK(!cfg.validate());
  cfg.default_route = "abc";
  check_invalid(cfg.validate(), "default_route");
  CHECK_THAT(p2p0mq::context_of(cfg.validate()),
             Catch::Matchers::Contains("3 bytes"));
  cfg.default_route = cfg.uuid;
  check_invalid(cfg.validate(), "default_route");
  CHECK_THAT(p2p0mq::context_of(cfg.validate()),
             Catch::Matchers::Contains("own uuid"));
}
