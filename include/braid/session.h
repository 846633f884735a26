// Public API: running graphs (Session, ClientSession, SessionOptions).
#pragma once
#include "braid/runtime/session.h"
