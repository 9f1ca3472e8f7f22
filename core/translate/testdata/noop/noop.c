/* noop keeps every asset unchanged: the host overhead of the C kit. */
#include "pbisync.h"

static int translate(void) { return PBS_KEEP; }

PBISYNC_TRANSLATOR(NULL, translate)
