/*
 * compat.h
 *		Every difference between the PostgreSQL major versions icp builds
 *		against (15, 16, 17, 18), in one place.
 *
 * The .c files are written against the newest API; what an older server
 * lacks is filled in here, so no other file tests PG_VERSION_NUM.  When a
 * new major version renames or removes something we use, add the new
 * spelling here with a fallback for the older versions (and say which
 * version changed it), rather than an #if in the code that uses it.
 *
 * Include it after postgres.h, like any other header.
 */
#ifndef ICP_COMPAT_H
#define ICP_COMPAT_H

#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_namespace_d.h"
#include "catalog/pg_proc_d.h"
#include "fmgr.h"
#include "nodes/bitmapset.h"
#include "nodes/makefuncs.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/datetime.h"
#include "utils/elog.h"

#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
/* 16 moved the varlena macros (VARSIZE, VARDATA...) out of postgres.h */
#include "varatt.h"
#endif

/*
 * 18 replaced the suffix attribute pg_attribute_noreturn() by the prefix
 * specifier pg_noreturn; the older attribute works as a prefix too.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/* 17 removed the Abs() macro from c.h */
#ifndef Abs
#define Abs(x) ((x) >= 0 ? (x) : -(x))
#endif

/* 17 renamed ShmemVariableCache to TransamVariables */
#if PG_VERSION_NUM < 170000
#define TransamVariables ShmemVariableCache
#endif

/* 17 moved a backend's local transaction id into PGPROC.vxid */
#if PG_VERSION_NUM >= 170000
#define IcpProcLocalXid(proc) ((proc)->vxid.lxid)
#else
#define IcpProcLocalXid(proc) ((proc)->lxid)
#endif

/*
 * 16 replaced the per-class ACL checks (pg_namespace_aclcheck,
 * pg_proc_aclcheck...) by object_aclcheck(classid, ...); before 16 it is
 * mapped back onto the per-class functions for the classes icp checks.
 */
#if PG_VERSION_NUM < 160000
static inline AclResult
object_aclcheck(Oid classid, Oid objectid, Oid roleid, AclMode mode)
{
	switch (classid)
	{
		case NamespaceRelationId:
			return pg_namespace_aclcheck(objectid, roleid, mode);
		case ProcedureRelationId:
			return pg_proc_aclcheck(objectid, roleid, mode);
		default:
			elog(ERROR, "object_aclcheck: unsupported class %u", classid);
	}
	return ACLCHECK_NO_PRIV;	/* keep the compiler quiet */
}
#endif

/*
 * A Var for column attno of the relation whose whole-row Var is row, to
 * stand for that column wherever row stands.  16 gave Vars the outer joins
 * that can null them (varnullingrels: a row from the nullable side of a LEFT
 * JOIN), 18 whether RETURNING reads the old or the new row
 * (varreturningtype); the column carries the same as the row.
 */
static inline Var *
IcpMakeColumnVar(const Var *row, AttrNumber attno, Oid type, int32 typmod,
				 Oid collation)
{
	Var		   *v = makeVar(row->varno, attno, type, typmod, collation,
							row->varlevelsup);

#if PG_VERSION_NUM >= 160000
	v->varnullingrels = bms_copy(row->varnullingrels);
#endif
#if PG_VERSION_NUM >= 180000
	v->varreturningtype = row->varreturningtype;
#endif
	return v;
}

/*
 * 16 gave DecodeDateTime an extra argument for details of an error;
 * icp only wants to know whether the text is a date and time.
 */
static inline int
IcpDecodeDateTime(char **field, int *ftype, int nf, int *dtype,
				  struct pg_tm *tm, fsec_t *fsec, int *tzp)
{
#if PG_VERSION_NUM >= 160000
	DateTimeErrorExtra extra;

	return DecodeDateTime(field, ftype, nf, dtype, tm, fsec, tzp, &extra);
#else
	return DecodeDateTime(field, ftype, nf, dtype, tm, fsec, tzp);
#endif
}

/*
 * Call a type input function (numeric_in, interval_in...) on s with
 * typioparam InvalidOid and typmod -1.  True with the value in *result;
 * false when s is not valid input (a data exception), with the message in
 * *errmsg (if errmsg is not NULL).  Other errors propagate.
 *
 * Since 16 this is the input function's own soft-error mode
 * (DirectInputFunctionCallSafe).  Before 16 the data exception is caught:
 * input functions hold no resources that need a subtransaction to release.
 */
static inline bool
IcpInputCallSafe(PGFunction fn, const char *s, Datum *result, char **errmsg)
{
#if PG_VERSION_NUM >= 160000
	ErrorSaveContext escontext = {T_ErrorSaveContext};

	escontext.details_wanted = (errmsg != NULL);
	if (DirectInputFunctionCallSafe(fn, unconstify(char *, s), InvalidOid, -1,
									(Node *) &escontext, result))
		return true;
	if (errmsg)
		*errmsg = escontext.error_data->message;
	return false;
#else
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		*result = DirectFunctionCall3(fn, CStringGetDatum(s),
									  ObjectIdGetDatum(InvalidOid),
									  Int32GetDatum(-1));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		if (errmsg)
			*errmsg = edata->message;
		ok = false;
	}
	PG_END_TRY();
	return ok;
#endif
}

#endif							/* ICP_COMPAT_H */
