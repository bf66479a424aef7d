#include "p2p0mq/errc.hpp"

#include <catch2/catch.hpp>
