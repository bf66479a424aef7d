#include "p2p0mq/message.hpp"

#include <catch2/catch.hpp>
