#include "p2p0mq/uuid.hpp"

#include <catch2/catch.hpp>
