#include "p2p0mq/send_queues.hpp"
