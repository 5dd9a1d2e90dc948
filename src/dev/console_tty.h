/* console_tty.h - raw mode for a terminal on COM1's input, restored on every
 * exit path (normal return, exit(), fatal signals). */
#ifndef NOBIOS_DEV_CONSOLE_TTY_H
#define NOBIOS_DEV_CONSOLE_TTY_H

#include <stdbool.h>

/* If fd is a terminal in the foreground process group, save its settings
 * and switch it to raw mode.  Returns 1 if it is now raw, 0 if fd is not a
 * foreground terminal (left alone), -1 with nb_err on a failure. */
int console_tty_raw(int fd);
/* Put the saved settings back (idempotent; async-signal-safe). */
void console_tty_restore(void);
bool console_tty_is_raw(void);

/* The escape that quits the VM from a raw terminal, as QEMU's -nographic:
 * Ctrl-A x quits, Ctrl-A Ctrl-A (or Ctrl-A a) sends one Ctrl-A. */
#define CONSOLE_ESCAPE_CHAR 0x01

#endif
