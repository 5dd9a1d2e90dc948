#!/bin/bash
# timeline.sh - `--timeline` and `--timeline=json` (issue 5): every milestone
# present, in time order, POST codes with times, KVM's counters from the
# binary stats fd, valid JSON.
. "$(dirname "$0")/lib.sh"
need_kvm timeline-json timeline-human || exit 0

run_nobios 30 run "$GUESTS/debug_probe.elf" --timeline=json
json=$(printf '%s\n' "$OUT" | grep '^{"nobios_timeline"')
TL_JSON=$json python3 - <<'PY'
import json, os, sys
t = json.loads(os.environ["TL_JSON"])
want = ["VM created", "memory ready", "image read", "first guest instruction",
        "first port 0x80 write", "first console byte", "guest exit"]
names = [m["name"] for m in t["milestones"]]
missing = [w for w in want if w not in names]
if missing:
    sys.exit("missing milestones: %s (have %s)" % (missing, names))
us = {m["name"]: m["us"] for m in t["milestones"]}
# Input files are read and checked before KVM is opened (a bad file is
# status 2 on any host), so "image read" comes first.
order = [us[w] for w in ["image read", "VM created", "memory ready", "first guest instruction"]]
if order != sorted(order) or us["first guest instruction"] > min(us["first port 0x80 write"], us["first console byte"]):
    sys.exit("milestones out of order: %s" % us)
if [m["us"] for m in t["milestones"]] != sorted(m["us"] for m in t["milestones"]):
    sys.exit("milestones not printed in time order")
if us["guest exit"] < max(us.values()):
    sys.exit("guest exit is not last")
posts = [p["value"] for p in t["post_codes"]]
if posts[:2] != [0x11, 0x22]:
    sys.exit("POST codes %s, want [17, 34]" % posts)
vcpu = t["kvm_stats"].get("vcpu0", {})
# (io_exits stays 0 on kvm_pvm, which counts port I/O under "exits" only)
if vcpu.get("exits", 0) < 1:
    sys.exit("vcpu0 counters missing: %s" % vcpu)
if t["exit"]["status"] != 1 or "debug-exit" not in t["exit"]["cause"]:
    sys.exit("exit: %s" % t["exit"])
PY
PYRC=$?
check timeline-json eval '[ "$PYRC" = 0 ] && [ "$RC" = 1 ] && [ -n "$json" ]'

run_nobios 30 run "$GUESTS/debug_probe.elf" --timeline
check timeline-human eval '[ "$RC" = 1 ] && has "nobios timeline (microseconds from process start):" &&
	printf "%s" "$OUT" | grep -Eq "^ +[0-9]+ us  first guest instruction$" &&
	printf "%s" "$OUT" | grep -Eq "^ +[0-9]+ us  port 0x80 <- 0x22$" &&
	has "KVM counters (vcpu0, non-zero):" && printf "%s" "$OUT" | grep -Eq "exits +[0-9]+"'
