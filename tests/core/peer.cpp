#include "p2p0mq/peer.hpp"

#include <catch2/catch.hpp>
