#include "p2p0mq/actors/zmq_transport.hpp"

#include <catch2/catch.hpp>
