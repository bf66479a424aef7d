#include "p2p0mq/actors/local_peer.hpp"

#include <catch2/catch.hpp>
