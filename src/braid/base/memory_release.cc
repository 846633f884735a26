#include "braid/base/memory_release.h"

#include <dlfcn.h>
#include <malloc.h>

namespace braid {

void ReleaseFreeMemory() {
  // Looked up at run time so that the library itself does not depend on
  // tcmalloc; only the executable links it.
  using ReleaseFn = void (*)();
  static const ReleaseFn tcmalloc_release =
      reinterpret_cast<ReleaseFn>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"));
  if (tcmalloc_release != nullptr) {
    tcmalloc_release();
  } else {
    malloc_trim(0);
  }
}

}  // namespace braid
