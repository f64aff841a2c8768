/*
 * support.c
 *		Planner support: score table rows without building the whole row.
 *
 * icp_fit(l, ...) receives l as a whole-row value, which the executor must
 * form (copy) for every row: that alone costs about as much as a
 * hand-written CASE sum.  When l is a plain table row, the support function
 * rewrites the call into icp_fit_columns(kind, profile, rowtype, l.ctid,
 * col1, col2, ...), which takes the columns as the scan already has them.
 * ctid stands for the row itself: it is NULL only where an outer join nulls
 * the whole row, so strictness is kept.  The icp_*_columns functions are
 * internal (not executable by PUBLIC) and check their arguments' shape
 * before reading any; the rewrite happens only for roles allowed to run
 * them.  The rewritten call scores exactly
 * as the original one; it binds by row type like any other call.
 * icp_segment(l [, profiles]) becomes icp_segment_columns the same way.
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "score.h"

PG_FUNCTION_INFO_V1(icp_support);


/*
 * icp_segment(l, text): the names are one array literal (an untyped '{a,b}').
 * A constant is read into a text[] once, here; any other expression is read
 * as text[] by an I/O coercion, as the function itself would read it.
 */
static Node *
SegmentNamesLiteral(Node *arg)
{
	if (IsA(arg, Const))
	{
		Const	   *c = (Const *) arg;

		if (c->constisnull)
			return (Node *) makeNullConst(TEXTARRAYOID, -1, DEFAULT_COLLATION_OID);
		return (Node *) makeConst(TEXTARRAYOID, -1, DEFAULT_COLLATION_OID, -1,
								  OidFunctionCall3(F_ARRAY_IN,
												   CStringGetDatum(TextDatumGetCString(c->constvalue)),
												   ObjectIdGetDatum(TEXTOID),
												   Int32GetDatum(-1)),
								  false, false);
	}
	else
	{
		CoerceViaIO *io = makeNode(CoerceViaIO);

		io->arg = (Expr *) arg;
		io->resulttype = TEXTARRAYOID;
		io->resultcollid = DEFAULT_COLLATION_OID;
		io->coerceformat = COERCE_IMPLICIT_CAST;
		io->location = -1;
		return (Node *) io;
	}
}
/* The rewritten call for icp_fit/icp_grade/icp_score on a table row, or NULL */
static Node *
RewriteWholeRowCall(SupportRequestSimplify *req)
{
	FuncExpr   *fexpr = req->fcall;
	PlannerInfo *root = req->root;
	Var		   *var;
	RangeTblEntry *rte;
	Relation	rel;
	TupleDesc	tupdesc;
	List	   *args = NIL;
	char	   *fname;
	char	   *target;
	char	   *nspname;
	Oid			anyoid = ANYOID;
	Oid			funcid;
	int			kind;
	int			i;

	if (root == NULL || root->parse == NULL || list_length(fexpr->args) < 1)
		return NULL;
	var = (Var *) linitial(fexpr->args);
	if (!IsA(var, Var) || var->varattno != 0 || var->varlevelsup != 0 ||
		var->varno < 1 || var->varno > list_length(root->parse->rtable))
		return NULL;
	rte = rt_fetch(var->varno, root->parse->rtable);
	if (rte->rtekind != RTE_RELATION ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW &&
		 rte->relkind != RELKIND_PARTITIONED_TABLE) ||
		var->vartype != get_rel_type_id(rte->relid))
		return NULL;

	fname = get_func_name(fexpr->funcid);
	if (fname == NULL)
		return NULL;
	if (strcmp(fname, "icp_fit") == 0)
		target = "icp_fit_columns";
	else if (strcmp(fname, "icp_grade") == 0)
		target = "icp_grade_columns";
	else if (strcmp(fname, "icp_score") == 0)
		target = "icp_score_columns";
	else if (strcmp(fname, "icp_segment") == 0)
		target = "icp_segment_columns";
	else
		return NULL;

	/* icp_segment's second argument is a text[] of profile names */
	if (list_length(fexpr->args) == 1)
		kind = ICP_ARG_DEFAULT;
	else if (exprType(lsecond(fexpr->args)) == TEXTOID ||
			 exprType(lsecond(fexpr->args)) == TEXTARRAYOID)
		kind = ICP_ARG_NAME;
	else
		kind = ICP_ARG_VALUE;

	/* the table is already locked by the query being planned */
	rel = table_open(rte->relid, NoLock);
	tupdesc = RelationGetDescr(rel);
	if (tupdesc->natts + ICP_COLUMNS_FIXED_ARGS > FUNC_MAX_ARGS)
	{
		table_close(rel, NoLock);
		return NULL;
	}

	args = lappend(args, makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
								   Int32GetDatum(kind), false, true));
	if (kind == ICP_ARG_DEFAULT)
		args = lappend(args, strcmp(fname, "icp_segment") == 0 ?
					   makeNullConst(TEXTARRAYOID, -1, DEFAULT_COLLATION_OID) :
					   makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID));
	else if (strcmp(fname, "icp_segment") == 0 &&
			 exprType(lsecond(fexpr->args)) == TEXTOID)
		args = lappend(args, SegmentNamesLiteral(lsecond(fexpr->args)));
	else
		args = lappend(args, lsecond(fexpr->args));
	args = lappend(args, makeConst(REGTYPEOID, -1, InvalidOid, sizeof(Oid),
								   ObjectIdGetDatum(var->vartype), false, true));
	args = lappend(args, IcpMakeColumnVar(var, SelfItemPointerAttributeNumber,
										  TIDOID, -1, InvalidOid));
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped)
			args = lappend(args, makeNullConst(INT4OID, -1, InvalidOid));
		else
			args = lappend(args, IcpMakeColumnVar(var, att->attnum, att->atttypid,
												  att->atttypmod, att->attcollation));
	}
	table_close(rel, NoLock);

	nspname = get_namespace_name(get_func_namespace(fexpr->funcid));
	funcid = LookupFuncName(list_make2(makeString(nspname), makeString(target)),
							1, &anyoid, true);
	if (!OidIsValid(funcid))
		return NULL;

	/*
	 * The internal function is not executable by PUBLIC: rewrite only for a
	 * role that may execute it (others keep the whole-row call, same
	 * answers), and make the plan depend on the role, so that a cached plan
	 * is planned again for a role that may not.
	 */
	if (object_aclcheck(ProcedureRelationId, funcid, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		return NULL;
	if (root->glob)
		root->glob->dependsOnRole = true;
	return (Node *) makeFuncExpr(funcid, fexpr->funcresulttype, args,
								 fexpr->funccollid, fexpr->inputcollid,
								 COERCE_EXPLICIT_CALL);
}

/* Planner support function of the record variants of the scoring functions */
Datum
icp_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(RewriteWholeRowCall((SupportRequestSimplify *) rawreq));
	PG_RETURN_POINTER(NULL);
}
