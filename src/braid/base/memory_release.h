// Handing freed memory back to the operating system, whichever allocator the
// process runs on: the braid executable links tcmalloc, tests and sanitizer
// builds run on glibc's malloc (or the sanitizer's).
#pragma once

namespace braid {

// Returns the allocator's free pages to the system (tcmalloc's
// ReleaseFreeMemory when it is the process's allocator, glibc's malloc_trim
// otherwise). Costs milliseconds: for after a large release, such as a model
// version unloaded, not for a hot path.
void ReleaseFreeMemory();

}  // namespace braid
