#include "p2p0mq/config.hpp"

#include <catch2/catch.hpp>
