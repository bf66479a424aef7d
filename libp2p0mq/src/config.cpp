#include "p2p0mq/config.hpp"
