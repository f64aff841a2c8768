-- ---------------------------------------------------------------------------
-- icp_rule: one boolean condition over the attributes of an account, written
-- like a SQL condition (the grammar is in src/rule.h and the README), stored
-- in a compact validated binary form and printed back canonically.
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.icp_rule;

CREATE FUNCTION @extschema@.icp_rule_in(pg_catalog.cstring)
RETURNS @extschema@.icp_rule
AS 'MODULE_PATHNAME', 'icp_rule_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_out(@extschema@.icp_rule)
RETURNS pg_catalog.cstring
AS 'MODULE_PATHNAME', 'icp_rule_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_recv(pg_catalog.internal)
RETURNS @extschema@.icp_rule
AS 'MODULE_PATHNAME', 'icp_rule_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_send(@extschema@.icp_rule)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'icp_rule_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.icp_rule (
    INPUT = @extschema@.icp_rule_in,
    OUTPUT = @extschema@.icp_rule_out,
    RECEIVE = @extschema@.icp_rule_recv,
    SEND = @extschema@.icp_rule_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

COMMENT ON TYPE @extschema@.icp_rule IS
'one ICP criterion: a boolean condition over account attributes, e.g. employees BETWEEN 50 AND 1000';
COMMENT ON FUNCTION @extschema@.icp_rule_in(pg_catalog.cstring) IS
'icp_rule input: parses and validates rule text';
COMMENT ON FUNCTION @extschema@.icp_rule_out(@extschema@.icp_rule) IS
'icp_rule output: the canonical text of the rule';
COMMENT ON FUNCTION @extschema@.icp_rule_recv(pg_catalog.internal) IS
'icp_rule binary input: validates the binary form and canonicalises it';
COMMENT ON FUNCTION @extschema@.icp_rule_send(@extschema@.icp_rule) IS
'icp_rule binary output: the serialized rule';

-- Comparison: byte-wise order of the canonical binary form.  Equal values are
-- rules that read the same once canonicalised; the order is stable but has no
-- meaning beyond grouping, DISTINCT and unique indexes.

CREATE FUNCTION @extschema@.icp_rule_eq(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_eq'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_ne(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_ne'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_lt(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_lt'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_le(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_le'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_gt(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_gt'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_ge(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'icp_rule_ge'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_cmp(@extschema@.icp_rule, @extschema@.icp_rule)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'icp_rule_cmp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_hash(@extschema@.icp_rule)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'icp_rule_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.icp_rule_hash_extended(@extschema@.icp_rule, pg_catalog.int8)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'icp_rule_hash_extended'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_rule_eq(@extschema@.icp_rule, @extschema@.icp_rule) IS
'true when two rules are the same once canonicalised';
COMMENT ON FUNCTION @extschema@.icp_rule_ne(@extschema@.icp_rule, @extschema@.icp_rule) IS
'true when two rules differ once canonicalised';
COMMENT ON FUNCTION @extschema@.icp_rule_lt(@extschema@.icp_rule, @extschema@.icp_rule) IS
'icp_rule ordering (byte-wise on the binary form): less than';
COMMENT ON FUNCTION @extschema@.icp_rule_le(@extschema@.icp_rule, @extschema@.icp_rule) IS
'icp_rule ordering (byte-wise on the binary form): less than or equal';
COMMENT ON FUNCTION @extschema@.icp_rule_gt(@extschema@.icp_rule, @extschema@.icp_rule) IS
'icp_rule ordering (byte-wise on the binary form): greater than';
COMMENT ON FUNCTION @extschema@.icp_rule_ge(@extschema@.icp_rule, @extschema@.icp_rule) IS
'icp_rule ordering (byte-wise on the binary form): greater than or equal';
COMMENT ON FUNCTION @extschema@.icp_rule_cmp(@extschema@.icp_rule, @extschema@.icp_rule) IS
'btree support for icp_rule: -1, 0 or 1';
COMMENT ON FUNCTION @extschema@.icp_rule_hash(@extschema@.icp_rule) IS
'hash support for icp_rule';
COMMENT ON FUNCTION @extschema@.icp_rule_hash_extended(@extschema@.icp_rule, pg_catalog.int8) IS
'seeded 64-bit hash support for icp_rule (hash partitioning)';

CREATE OPERATOR @extschema@.= (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_eq,
    COMMUTATOR = OPERATOR(@extschema@.=),
    NEGATOR = OPERATOR(@extschema@.<>),
    RESTRICT = pg_catalog.eqsel,
    JOIN = pg_catalog.eqjoinsel,
    HASHES,
    MERGES
);

CREATE OPERATOR @extschema@.<> (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_ne,
    COMMUTATOR = OPERATOR(@extschema@.<>),
    NEGATOR = OPERATOR(@extschema@.=),
    RESTRICT = pg_catalog.neqsel,
    JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR @extschema@.< (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_lt,
    COMMUTATOR = OPERATOR(@extschema@.>),
    NEGATOR = OPERATOR(@extschema@.>=),
    RESTRICT = pg_catalog.scalarltsel,
    JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_le,
    COMMUTATOR = OPERATOR(@extschema@.>=),
    NEGATOR = OPERATOR(@extschema@.>),
    RESTRICT = pg_catalog.scalarlesel,
    JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR @extschema@.> (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_gt,
    COMMUTATOR = OPERATOR(@extschema@.<),
    NEGATOR = OPERATOR(@extschema@.<=),
    RESTRICT = pg_catalog.scalargtsel,
    JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR @extschema@.>= (
    LEFTARG = @extschema@.icp_rule,
    RIGHTARG = @extschema@.icp_rule,
    FUNCTION = @extschema@.icp_rule_ge,
    COMMUTATOR = OPERATOR(@extschema@.<=),
    NEGATOR = OPERATOR(@extschema@.<),
    RESTRICT = pg_catalog.scalargesel,
    JOIN = pg_catalog.scalargejoinsel
);

CREATE OPERATOR CLASS @extschema@.icp_rule_btree_ops
DEFAULT FOR TYPE @extschema@.icp_rule USING btree AS
    OPERATOR 1 @extschema@.<,
    OPERATOR 2 @extschema@.<=,
    OPERATOR 3 @extschema@.=,
    OPERATOR 4 @extschema@.>=,
    OPERATOR 5 @extschema@.>,
    FUNCTION 1 @extschema@.icp_rule_cmp(@extschema@.icp_rule, @extschema@.icp_rule);

CREATE OPERATOR CLASS @extschema@.icp_rule_hash_ops
DEFAULT FOR TYPE @extschema@.icp_rule USING hash AS
    OPERATOR 1 @extschema@.=,
    FUNCTION 1 @extschema@.icp_rule_hash(@extschema@.icp_rule),
    FUNCTION 2 @extschema@.icp_rule_hash_extended(@extschema@.icp_rule, pg_catalog.int8);

CREATE FUNCTION @extschema@.icp_rule_attributes(@extschema@.icp_rule)
RETURNS pg_catalog.text[]
AS 'MODULE_PATHNAME', 'icp_rule_attributes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.icp_rule_attributes(@extschema@.icp_rule) IS
'the distinct attribute paths a rule reads, in order of first appearance (a.b for key b of a)';
