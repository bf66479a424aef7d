#include "p2p0mq/message.hpp"
