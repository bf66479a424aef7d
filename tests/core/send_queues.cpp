#include "p2p0mq/send_queues.hpp"

#include <catch2/catch.hpp>
