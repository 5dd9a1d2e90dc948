/* console_tty.h - raw mode for a terminal on COM1's input, restored on every
 * exit path (normal return, exit(), fatal signals). */
#ifndef NOBIOS_DEV_CONSOLE_TTY_H
#define NOBIOS_DEV_CONSOLE_TTY_H

#include <stdbool.h>

/* If fd is a terminal in the foreground process group, save its settings
 * and switch it to raw mode.  Returns 1 if it is now raw, 0 if fd is not a
 * foreground terminal (left alone), -1 with nb_err on a failure. */
int console_tty_raw(int fd);
/* True if fd is a terminal whose foreground process group is not ours
 * (`nobios ... &` in an interactive shell): reading it would stop the whole
 * process with SIGTTIN, so the console takes no input then. */
bool console_tty_background(int fd);
/* Put the saved settings back (idempotent; async-signal-safe). */
void console_tty_restore(void);
bool console_tty_is_raw(void);

/* The escape that quits the VM from a raw terminal, as QEMU's -nographic:
 * Ctrl-A x quits, Ctrl-A Ctrl-A (or Ctrl-A a) sends one Ctrl-A. */
#define CONSOLE_ESCAPE_CHAR 0x01

#endif
