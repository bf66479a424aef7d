#include "p2p0mq/payload.hpp"
