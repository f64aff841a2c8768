/*
 * pgstub.h
 *		The fuzzers' stand-in backend (pgstub.c).
 */
#ifndef ICP_PGSTUB_H
#define ICP_PGSTUB_H

extern void StubResetMemory(void);
extern char *StubStackBase;
extern int	StubLastErrorCode;

#endif							/* ICP_PGSTUB_H */
