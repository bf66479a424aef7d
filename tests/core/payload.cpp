#include "p2p0mq/payload.hpp"

#include <catch2/catch.hpp>
