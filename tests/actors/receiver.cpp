#include "p2p0mq/actors/receiver.hpp"

#include <catch2/catch.hpp>
