#include "p2p0mq/uuid.hpp"
