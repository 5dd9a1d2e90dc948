#!/bin/bash
# docs.sh - the manual page documents everything `nobios --help` lists:
# every flag, every exit status and every boot format (issue 5).  No KVM.
. "$(dirname "$0")/lib.sh"
MAN=${MAN:-doc/nobios.1}
if [ ! -f "$MAN" ]; then t_fail docs-man-exists "$MAN missing"; exit 0; fi
t_pass docs-man-exists
run_nobios 10 --help
HELP=$OUT
# roff writes - as \-; compare against the plain text.
PLAIN=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$MAN")

flags=$(printf '%s\n' "$HELP" | grep -E '^ +(-|KERNEL)' |
	grep -oE '(^|[ ,])-{1,2}[a-z][a-z0-9-]*' | sed 's/^[ ,]*//' | sort -u)
missing=""
for f in $flags; do
	printf '%s' "$PLAIN" | grep -qF -- "$f" || missing="$missing $f"
done
nflags=$(printf '%s\n' $flags | grep -c .)
check docs-every-flag eval '[ "$nflags" -ge 20 ] && [ -z "$missing" ]'
[ -n "$missing" ] && echo "  flags missing from $MAN:$missing"

# Exit statuses: the numbers in --help's "Exit status" paragraph.
statuses=$(printf '%s\n' "$HELP" | sed -n '/^Exit status/,$p' | sed 's/(v << 1) | 1//' | grep -oE '(^|[ ;:])[0-9]( |$)' | tr -d ' ;:' | sort -u)
smissing=""
for s in $statuses; do
	printf '%s\n' "$PLAIN" | grep -qx "\.B $s" || smissing="$smissing $s"
done
printf '%s' "$PLAIN" | grep -qF '(v << 1) | 1' || printf '%s' "$PLAIN" | grep -qF 'v " << 1) | 1' || smissing="$smissing (v<<1)|1"
check docs-exit-statuses eval '[ -n "$statuses" ] && [ -z "$smissing" ]'
[ -n "$smissing" ] && echo "  exit statuses missing from $MAN:$smissing"

# Boot formats named by --boot-protocol.
formats=$(printf '%s\n' "$HELP" | sed -n '/--boot-protocol/,/^  -/p' | sed 's/.*force a format://' |
	grep -v -- '--cache' | tr ' ' '\n' | grep -E '^[a-z0-9]+$' | sort -u)
fmissing=""
for f in $formats; do
	printf '%s' "$PLAIN" | grep -qw -- "$f" || fmissing="$fmissing $f"
done
check docs-boot-formats eval '[ -n "$formats" ] && [ -z "$fmissing" ]'
[ -n "$fmissing" ] && echo "  formats missing from $MAN:$fmissing"

# The page renders without roff warnings.
if command -v groff >/dev/null; then
	W=$(groff -man -Tascii -ww -z "$MAN" 2>&1)
	OUT=$W; RC=0
	check docs-man-renders eval '[ -z "$W" ]'
fi
