/* tap.c - open a Linux TAP interface for virtio-net (net/tap.h).
 *
 * The interface is opened with IFF_TAP | IFF_NO_PI and without
 * IFF_VNET_HDR: a read gives one whole Ethernet frame, a write sends one.
 * With IFF_VNET_HDR the guest's struct virtio_net_hdr could pass straight
 * through to the kernel, but that only pays off with checksum and
 * segmentation offloads, which nobios does not offer; without it the guest's
 * header never reaches the host kernel (virtio_net.c checks it and drops
 * it) and the device writes a zero header on receive, which is what 5.1.6.4
 * asks when no offload is negotiated.
 *
 * Opening /dev/net/tun and TUNSETIFF on a name that does not exist creates
 * a non-persistent interface, gone when nobios exits (that needs
 * CAP_NET_ADMIN); on a persistent one made with `ip tuntap add dev NAME mode
 * tap user USER`, the owner needs no capability. */
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/err.h"

const char *tap_name_check(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return "empty interface name";
	if (n >= TAP_IFNAMSIZ)
		return "interface name longer than 15 characters";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "'.' and '..' are not interface names";
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || *p == ',' || (unsigned char)*p <= ' ' ||
		    (unsigned char)*p >= 0x7f)
			return "interface names have no '/', ':', ',', spaces or control characters";
	return NULL;
}

int tap_open(const char *name, char ifname[TAP_IFNAMSIZ], int *fd, bool *created)
{
	*fd = -1;
	*created = false;
	ifname[0] = 0;
	/* The flag as the user wrote it, for every message. */
	char flag[32];
	snprintf(flag, sizeof(flag), name && *name ? "--net tap=%s" : "--net tap", name);
	if (!name || !*name)
		name = TAP_AUTO_NAME;
	const char *why = tap_name_check(name);
	if (why)
		return nb_err("%s: %s", flag, why);
	int f = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (f < 0) {
		int e = errno;
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			return nb_err_internal("%s: /dev/net/tun: %s (no TUN/TAP driver: modprobe tun)",
					       flag, strerror(e));
		return nb_err_internal("%s: /dev/net/tun: %s", flag, strerror(e));
	}
	/* Only to tell the user (-v) whether the interface was made for this
	 * run; TUNSETIFF itself does not say. */
	bool existed = !strchr(name, '%') && if_nametoindex(name) != 0;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(f, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(f);
		switch (e) {
		case EPERM:
		case EACCES:
			return nb_err_internal("%s: %s (creating a TAP needs CAP_NET_ADMIN; or make one "
					       "first: ip tuntap add dev NAME mode tap user USER)",
					       flag, strerror(e));
		case EBUSY:
			return nb_err_internal("%s: the interface is in use by another process", flag);
		case EINVAL:
			/* tun_set_iff: the name is a TUN (layer 3), a multi-queue
			 * TAP or not a TUN/TAP interface at all. */
			return nb_err("%s: not a single-queue TAP interface (a TUN, a multi-queue TAP "
				      "or another kind of interface has that name)", flag);
		default:
			return nb_err_internal("%s: TUNSETIFF: %s", flag, strerror(e));
		}
	}
	snprintf(ifname, TAP_IFNAMSIZ, "%.*s", TAP_IFNAMSIZ - 1, ifr.ifr_name);
	*fd = f;
	*created = !existed;
	return 0;
}

void tap_default_mac(const char *ifname, uint8_t mac[TAP_MAC_LEN])
{
	uint32_t h = 2166136261u; /* FNV-1a, 32 bits */
	for (const unsigned char *p = (const unsigned char *)ifname; *p; p++)
		h = (h ^ *p) * 16777619u;
	mac[0] = 0x02; /* locally administered (bit 1), unicast (bit 0 clear) */
	mac[1] = 0x4e;
	mac[2] = 0x42;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *tap_parse_mac(const char *s, uint8_t mac[TAP_MAC_LEN])
{
	for (int i = 0; i < TAP_MAC_LEN; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
		if (hi < 0 || lo < 0 || p[2] != (i == TAP_MAC_LEN - 1 ? 0 : ':'))
			return "not six hexadecimal bytes XX:XX:XX:XX:XX:XX";
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return "a multicast address (the first byte is odd): a NIC needs a unicast one";
	static const uint8_t zero[TAP_MAC_LEN];
	if (memcmp(mac, zero, TAP_MAC_LEN) == 0)
		return "the all-zero address";
	return NULL;
}
