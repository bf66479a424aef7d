#include "p2p0mq/errc.hpp"
