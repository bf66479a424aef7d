#pragma once

/// @file
/// Everything a program that runs local peers needs, in one header: the
/// actor system config with p2p0mq's options (`p2p0mq::system_config`), the
/// local peer (`p2p0mq::local_peer`), concerns (`p2p0mq::concern_base`,
/// `p2p0mq::make_concern`, `p2p0mq::echo`), messages and payloads, peer
/// records, errors, metrics, logging and certificates, and the declarations
/// of `p2p0mq::remote` (which needs the `p2p0mq::remote` library when used).
/// Link `p2p0mq::actors`. The test kit has its own headers under
/// `p2p0mq/testing/`.
///
/// ~~~
/// #include <p2p0mq/p2p0mq.hpp>
///
/// int main(int argc, char** argv) {
///   p2p0mq::system_config cfg;
///   if (auto err = cfg.parse(argc, argv))
///     return 2;
///   caf::actor_system sys{cfg};
///   p2p0mq::local_peer peer{sys, cfg.settings};
///   ...
/// }
/// ~~~

#include <caf/actor_system.hpp>

#include "p2p0mq/actors/caf_group.hpp"
#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/groups.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/actors/metrics.hpp"
#include "p2p0mq/actors/remote.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/actors/types.hpp"
#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/field.hpp"
#include "p2p0mq/groups.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"
#include "p2p0mq/peer.hpp"
#include "p2p0mq/peer_store.hpp"
#include "p2p0mq/time.hpp"
#include "p2p0mq/uuid.hpp"
