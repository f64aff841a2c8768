#!/usr/bin/env bash
# Check: every statement of every ```sql example in README.md is run, as
# written (whitespace and comments aside), by some pg_regress file in sql/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
perl -e '
	local $/;
	open my $r, "<", "README.md" or die; my $readme = <$r>;
	my $tests = "";
	for my $f (glob "sql/*.sql") { open my $t, "<", $f or die; $tests .= <$t> . "\n"; }
	sub norm { my $s = shift; $s =~ s/--[^\n]*//g; $s =~ s/\s+/ /g; $s =~ s/^ | $//g; $s =~ s/;$//; return $s; }
	my $all = norm($tests);
	my ($n, $missing) = (0, 0);
	while ($readme =~ /```sql\n(.*?)```/gs) {
		for my $stmt (split /;\s*\n/, $1) {
			my $s = norm($stmt);
			next if $s eq "";
			$n++;
			if (index($all, $s) < 0) { $missing++; print "# not run by sql/*.sql: $s\n"; }
		}
	}
	print(($missing ? "not ok" : "ok") . " 1 - all $n SQL statements of the README examples are run by the regression suite\n");
'
