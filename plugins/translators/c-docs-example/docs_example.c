/* The translator from the dagster-powerbi docs, in C: dashboards get a prefix in front of
 * their key (config "prefix", default "prefix") and team:my_team as their owner. */
#include "pbisync.h"

static char *prefix;

static int init(void) {
	prefix = pbs_config("prefix");
	if (!prefix) prefix = "prefix";
	if (!*prefix) {
		pbs_fail("config: prefix must not be empty");
		return 1;
	}
	return 0;
}

static int translate(void) {
	if (pbs_type() == PBS_DASHBOARD) {
		static const char *const owners[] = {"team:my_team"};
		pbs_key_prefix(prefix);
		pbs_owners_set(owners, 1);
	}
	return PBS_KEEP;
}

PBISYNC_TRANSLATOR(init, translate)
