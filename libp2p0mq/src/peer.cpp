#include "p2p0mq/peer.hpp"
