# exec.mk - the guest's PID 1 for `nobios exec` (src/exec/init/), built
# static with the host's C library (glibc's libc.a, Debian's libc6-dev: no
# extra package) and linked into libnobios as exec_init_image /
# exec_init_image_size (init_blob.S .incbin's it), as the pseudo-BIOS is.
EXEC_INIT      := $(BUILD)/exec/nobios-init
EXEC_INIT_BLOB := $(BUILD)/exec/init_blob.o

$(EXEC_INIT): src/exec/init/nobios-init.c src/exec/exec_port.h
	@mkdir -p $(dir $@)
	$(CC) -static -Os -s -std=gnu11 -Wall -Wextra -Werror -Isrc -o $@ $<

$(EXEC_INIT_BLOB): src/exec/init_blob.S $(EXEC_INIT)
	@mkdir -p $(dir $@)
	$(CC) -c -DEXEC_INIT_PATH='"$(EXEC_INIT)"' -o $@ $<

$(LIB): $(EXEC_INIT_BLOB)
