#include "p2p0mq/actors/heart_beat.hpp"

#include <catch2/catch.hpp>
