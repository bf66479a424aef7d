#include "p2p0mq/actors/connector.hpp"

#include <catch2/catch.hpp>
