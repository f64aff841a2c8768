/*
 * icp.c
 *		Module entry point: magic block and one-time initialisation.
 */
#include "postgres.h"

#include "fmgr.h"

#include "icp.h"

PG_MODULE_MAGIC;

/* Register the invalidation callbacks the profile cache relies on */
void
_PG_init(void)
{
	IcpProfileCacheInit();
}
