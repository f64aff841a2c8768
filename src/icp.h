/*
 * icp.h
 *		Declarations shared by every module of the icp extension.
 */
#ifndef ICP_H
#define ICP_H

#include "postgres.h"

extern void _PG_init(void);

/* profile_cache.c: registers the relcache callback, called from _PG_init */
extern void IcpProfileCacheInit(void);
extern uint64 IcpProfileGeneration;
extern Oid	IcpProfilesRelid;
extern Oid	IcpCriteriaRelid;

#endif							/* ICP_H */
