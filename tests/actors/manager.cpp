#include "p2p0mq/actors/manager.hpp"

#include <catch2/catch.hpp>
