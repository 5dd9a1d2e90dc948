# src/cli/cli.mk - `nobios --version` names the commit it was built from.
#
# In a git checkout, `git describe` is baked into version.o through a
# generated header; from the release tarball (no .git) or with GIT_DESCRIBE=
# (debian/rules: a package names its version only, reproducibly) it is
# empty.  The header is rewritten only when the description changes, so an
# unchanged tree relinks nothing.  Characters outside [A-Za-z0-9._+-] are
# dropped: a tag name must not be able to inject C.
GIT_DESCRIBE ?= $(if $(wildcard .git),$(shell git describe --always --dirty 2>/dev/null))
$(BUILD)/gen/git_describe.h: FORCE
	@mkdir -p $(dir $@)
	@d=$$(printf '%s' '$(subst ','',$(GIT_DESCRIBE))' | tr -cd 'A-Za-z0-9._+-'); \
	printf '#define NOBIOS_GIT_DESCRIBE "%s"\n' "$$d" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/src/cli/version.o: $(BUILD)/gen/git_describe.h
$(BUILD)/src/cli/version.o: CFLAGS += -I$(BUILD)/gen
$(BUILD)/lint/src/cli/version.ok: CFLAGS += -I$(BUILD)/gen
.PHONY: FORCE
FORCE:
