/* tap.h - the host side of virtio-net: a Linux TAP interface (the kernel's
 * Documentation/networking/tuntap.rst).  Opened by the machine before any
 * device exists and long before the sandbox, which forbids open(2). */
#ifndef NOBIOS_NET_TAP_H
#define NOBIOS_NET_TAP_H

#include <stdbool.h>
#include <stdint.h>

#define TAP_IFNAMSIZ 16 /* IFNAMSIZ: 15 characters and the NUL */
#define TAP_AUTO_NAME "nbtap%d" /* --net tap without a name: the kernel picks the number */
#define TAP_MAC_LEN 6

/* Attach to the TAP interface `name` (created when it does not exist, which
 * needs CAP_NET_ADMIN; NULL or "" creates TAP_AUTO_NAME).  *fd: non-blocking,
 * close-on-exec, one Ethernet frame per read/write (IFF_TAP | IFF_NO_PI).
 * ifname: the interface's name as the kernel has it; *created: it did not
 * exist before (it goes away when the fd is closed).  0, or -1 with nb_err():
 * an input error (status 2) for a name that is not a TAP interface, a host
 * error (status 6) for no /dev/net/tun, no permission, a busy interface. */
int tap_open(const char *name, char ifname[TAP_IFNAMSIZ], int *fd, bool *created);
/* Is s usable as an interface name (1-15 characters, no '/', ':' or
 * white space, not "." or "..")?  NULL if so, else why not. */
const char *tap_name_check(const char *s);
/* The default MAC of a TAP: 02:4e:42 (locally administered, unicast; "NB")
 * then three bytes of an FNV-1a hash of the interface name, so the same
 * interface gives the guest the same address every run. */
void tap_default_mac(const char *ifname, uint8_t mac[TAP_MAC_LEN]);
/* "XX:XX:XX:XX:XX:XX" (hex, either case) into mac; NULL if it is a valid
 * unicast address, else why not. */
const char *tap_parse_mac(const char *s, uint8_t mac[TAP_MAC_LEN]);

#endif
