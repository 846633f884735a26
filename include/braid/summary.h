// Public API: summaries for TensorBoard and `braid board` (SummaryWriter; the
// summary ops are in braid/ops.h).
#pragma once
#include "braid/summary/event_writer.h"
#include "braid/summary/summary_writer.h"
