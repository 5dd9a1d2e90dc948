#!/bin/bash
# completion.sh - bash completion (completion/nobios) as bash-completion runs
# it: subcommands, flags, file and directory arguments, --disk options, and
# --boot-protocol names.  The completion reads flags and protocol names from
# `nobios --help`; this test checks them against --help parsed its own way
# and against the format registry (`nobios inspect` lists every format's
# probe), so none of the three can drift from the others.  No KVM needed.
. "$(dirname "$0")/lib.sh"
COMP=$PWD/completion/nobios
BC=/usr/share/bash-completion/bash_completion
ALL="completion-syntax completion-subcommands completion-flags completion-flags-accepted
	completion-protocols
	completion-protocols-registry completion-split-value completion-files completion-dirs
	completion-no-file-for-values completion-disk-options"
if [ ! -r "$BC" ]; then
	for n in $ALL; do t_skip "$n" "bash-completion is not installed ($BC; scripts/setup.sh installs it)"; done
	exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
BIN=$(cd "$(dirname "$NOBIOS")" && pwd)/$(basename "$NOBIOS")

OUT=$(bash -n "$COMP" 2>&1); RC=$?
check completion-syntax eval '[ "$RC" = 0 ]'

# Completion requests are queued and run in one bash that sources
# bash-completion once (it costs seconds under the SVM test host's TCG).
# queue ID LINE WORD...: the words of a command line whose last word is being
# completed (may be ""), as bash hands them to the completion function
# (COMP_WORDS split at COMP_WORDBREAKS, so "--x=v" is "--x" "=" "v"; LINE is
# the line as typed, "" when it is the words joined by spaces).
# run_queue: runs them in $tmp/files; reply ID: that request's COMPREPLY, sorted.
Q=$tmp/queue
: > "$Q"
queue() {
	local id=$1 line=$2; shift 2
	{ printf 'c %q %q' "$id" "$line"; printf ' %q' "$@"; echo; } >> "$Q"
}
run_queue() {
	(cd "$tmp/files" && bash --norc --noprofile -c '
		. "$1"; . "$2"
		c() {
			local id=$1 line=$2; shift 2
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE=${line:-$*}; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
			_nobios "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
			echo "@@ $id"
			[ ${#COMPREPLY[@]} = 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort
		}
		. "$3"' _ "$BC" "$COMP" "$Q" > "$tmp/replies" 2>&1)
}
reply() { awk -v id="$1" '/^@@ / { on = ($2 == id); next } on' "$tmp/replies"; }
# same WANT GOT: newline-separated sets equal (order ignored)
same() { [ "$(printf '%s\n' "$1" | grep . | sort -u)" = "$(printf '%s\n' "$2" | grep . | sort -u)" ]; }

mkdir -p "$tmp/files/sub"
: > "$tmp/files/vmlinuz"; : > "$tmp/files/initrd.img"
queue subcommands "" "$BIN" ""
queue flags "" "$BIN" run --
queue protocols "" "$BIN" run --boot-protocol ""
queue split "$BIN run --boot-protocol=mu" "$BIN" run --boot-protocol = mu
queue files "" "$BIN" run --initrd "$tmp/files/"
queue dirs "" "$BIN" run --cache-dir "$tmp/files/"
queue memory "" "$BIN" run -m ""
queue cmdline "" "$BIN" run --cmdline ""
queue disk "" "$BIN" run --disk "$tmp/files/vmlinuz,"
run_queue
# a broken completion file shows as bash errors among the replies
OUT=$(grep -v '^@@ ' "$tmp/replies" | grep -iE 'error|not found|command not found')
[ -n "$OUT" ] && echo "  bash said: $OUT"

OUT=$(reply subcommands)
check completion-subcommands eval 'same "run
exec
inspect
help" "$OUT"'

# The flags --help lists, parsed here independently (as docs.sh does):
# every "-x"/"--xx" at the start of an option line or after ", ", the
# "[=json]" form spelled out, and --help/--version from the usage lines.
HELP=$("$NOBIOS" --help)
want_flags=$( { printf '%s\n' "$HELP" | grep -E '^  (-|KERNEL)' | sed 's/   .*//' |
	grep -oE '(^ +|, )-{1,2}[a-z][a-z0-9-]*(\[=[a-z]+\])?' | sed -E 's/^(, | +)//' |
	sed -E 's/^(.*)\[(=[a-z]+)\]$/\1\n\1\2/'
	printf '%s\n' "$HELP" | grep -E '^(usage:)? +nobios ' | grep -oE -- '--[a-z][a-z-]*'; } | sort -u)
OUT=$(reply flags)
got=$OUT
check completion-flags eval 'same "$(printf "%s\n" "$want_flags" | grep -- "^--")" "$got" &&
	printf "%s\n" "$got" | grep -qx -- --no-default-cmdline &&
	printf "%s\n" "$got" | grep -qx -- --timeline=json &&
	[ "$(printf "%s\n" "$want_flags" | grep -c .)" -ge 25 ]'
[ -n "$(comm -3 <(printf '%s\n' "$want_flags" | grep -- '^--') <(printf '%s\n' "$got"))" ] &&
	echo "  differs (--help | completion): $(comm -3 <(printf '%s\n' "$want_flags" | grep -- '^--') <(printf '%s\n' "$got") | tr '\n\t' ' ')"

# every flag --help lists is one the parser knows (none says "unknown option")
unknown=""
for f in $want_flags; do
	o=$(timeout 5 "$NOBIOS" run "$f" </dev/null 2>&1)
	case $o in *"unknown option"*) unknown="$unknown $f" ;; esac
done
OUT="unknown to the parser:$unknown"; RC=0
check completion-flags-accepted eval '[ -z "$unknown" ]'

# --boot-protocol: the names --help lists ...
want_protos=$(printf '%s\n' "$HELP" | sed -n '/--boot-protocol/,/^  -/p' | sed 's/.*force a format://' |
	grep -v -- '^  -' | tr ' ' '\n' | grep -E '^[a-z0-9]+$' | sort -u)
OUT=$(reply protocols)
protos=$OUT
check completion-protocols eval 'same "$want_protos" "$protos" && [ "$(printf "%s\n" "$protos" | grep -c .)" -ge 10 ]'
# ... are exactly the formats nobios has: inspect of a file no format takes
# prints every registered format's probe ("   ORDER NAME  no : why")
head -c 4096 /dev/zero > "$tmp/zero"
registry=$("$NOBIOS" inspect "$tmp/zero" 2>&1 | sed -nE 's/^ +[0-9]+ ([a-z0-9]+) +(yes|no) *:.*/\1/p' | sort -u)
OUT="registry: $(echo $registry) / completion: $(echo $protos)"; RC=0
check completion-protocols-registry eval '[ -n "$registry" ] && same "$registry" "$protos"'

# --boot-protocol=mu<TAB>: bash-completion splits at '=' (_init_completion -s)
OUT=$(reply split)
check completion-split-value eval 'same "multiboot
multiboot2" "$OUT"'

# file and directory arguments
OUT=$(reply files)
check completion-files eval 'same "$tmp/files/vmlinuz
$tmp/files/initrd.img
$tmp/files/sub" "$OUT"'
OUT=$(reply dirs)
check completion-dirs eval 'same "$tmp/files/sub" "$OUT"'
# values only the user knows: nothing offered (not file names)
OUT=$(reply memory; reply cmdline)
check completion-no-file-for-values eval '[ -z "$OUT" ]'
OUT=$(reply disk)
check completion-disk-options eval 'same "$tmp/files/vmlinuz,rw
$tmp/files/vmlinuz,snapshot" "$OUT"'
