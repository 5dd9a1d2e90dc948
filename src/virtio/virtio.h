/* virtio.h - virtio 1.x over MMIO: split virtqueues (virtqueue.c), the
 * virtio-mmio transport with the version-2 register layout (virtio_mmio.c),
 * and the interface each device file (virtio_blk.c, virtio_rng.c,
 * virtio_console.c, virtio_9p.c) implements.
 *
 * Names follow the virtio 1.2 specification (sections 2.7 "Split
 * Virtqueues", 4.2 "Virtio Over MMIO", 5.2 block, 5.3 console, 5.4
 * entropy).  Nothing here trusts the guest: every descriptor, ring index and
 * register value is checked before it is used, and a guest-physical address
 * becomes a host pointer only through src/mem/ (mem_ptr) after its whole
 * range has been checked. */
#ifndef NOBIOS_VIRTIO_VIRTIO_H
#define NOBIOS_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct guest_mem;
struct dev_host;
struct bus;

/* ---- Device status field (2.1) */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE        1
#define VIRTIO_CONFIG_S_DRIVER             2
#define VIRTIO_CONFIG_S_DRIVER_OK          4
#define VIRTIO_CONFIG_S_FEATURES_OK        8
#define VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET 64
#define VIRTIO_CONFIG_S_FAILED             128

/* ---- Reserved feature bits (6) */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32
#define VIRTIO_F_RING_PACKED   34

/* ---- Split virtqueue layout (2.7) */
#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2
#define VIRTQ_DESC_F_INDIRECT  4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_DESC_SIZE        16 /* struct virtq_desc: le64 addr, le32 len, le16 flags, next */
#define VIRTQ_USED_ELEM_SIZE   8  /* struct virtq_used_elem: le32 id, le32 len */
/* Alignment the rings must have (2.7, table "Alignment"). */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4

/* The largest queue nobios offers (QueueNumMax).  A chain is never longer
 * than the queue size (2.7.5.3.1), so this also bounds every chain. */
#define VIRTQ_NUM_MAX 256

struct virtq {
	uint16_t num;        /* QueueNum: a power of 2, 1..VIRTQ_NUM_MAX */
	bool ready;          /* QueueReady */
	bool indirect;       /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc, avail, used; /* QueueDesc, QueueDriver, QueueDevice */
	uint16_t last_avail; /* next avail ring entry to take */
	uint16_t used_idx;   /* next used ring entry to fill */
	/* VIRTIO_F_EVENT_IDX negotiated (2.7.7, 2.7.10): the driver's used_event
	 * and our avail_event replace the flags for notification suppression. */
	bool event_idx;
	/* used_idx when we last decided whether to interrupt: the entries
	 * since are the ones whose crossing of used_event counts (2.7.7.2). */
	uint16_t signalled_used;
};

/* One descriptor's buffer, checked to lie entirely in guest RAM. */
struct virtq_seg {
	uint64_t gpa;
	uint32_t len;
};

/* Why a chain was refused (virtq_pop).  The request fails; the ring and
 * every other request go on. */
enum virtq_chain_err {
	VIRTQ_CHAIN_OK = 0,
	VIRTQ_CHAIN_RANGE,    /* a buffer or indirect table outside guest RAM */
	VIRTQ_CHAIN_NEXT,     /* a next index outside the queue or the table */
	VIRTQ_CHAIN_LOOP,     /* more descriptors than the queue size: a loop */
	VIRTQ_CHAIN_ORDER,    /* a device-readable buffer after a device-writable one (2.7.4.2) */
	VIRTQ_CHAIN_INDIRECT, /* indirect not negotiated, nested, with NEXT, not alone, or a bad table length */
};

/* A popped request: its head (the id for the used ring), its buffers, the
 * device-readable ones first (nout), the device-writable ones after (nin). */
struct virtq_chain {
	uint16_t head;
	enum virtq_chain_err err;
	unsigned nout, nin;
	uint64_t out_len, in_len; /* bytes in each part */
	struct virtq_seg seg[VIRTQ_NUM_MAX];
};

const char *virtq_chain_strerror(enum virtq_chain_err e);
/* Is the queue's configuration usable: num a power of 2 up to max, rings
 * aligned and inside guest RAM?  NULL if so, else why not. */
const char *virtq_check(const struct virtq *q, const struct guest_mem *m, unsigned max);
/* Take the next available chain.  1: c filled (c->err says whether it can
 * be served; c->head is valid either way), 0: nothing available, -1: the
 * ring itself is broken (an avail index more than num ahead, a head index
 * outside the queue): the device needs a reset.  With VIRTIO_F_EVENT_IDX an
 * empty ring also publishes avail_event (virtq_arm_notify). */
int virtq_pop(struct virtq *q, struct guest_mem *m, struct virtq_chain *c);
/* Return a chain to the driver with `len` bytes written.  0, or -1 when the
 * used ring is not writable (checked at QueueReady, so only on a bug). */
int virtq_push(struct virtq *q, struct guest_mem *m, uint16_t head, uint32_t len);
/* After pushing: does the driver want a used buffer notification for what
 * was pushed since the last call?  With VIRTIO_F_EVENT_IDX, when the used
 * index passed the driver's used_event (2.7.7.2, vring_need_event); without
 * it, unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT.  Call it after every
 * batch of pushes: it remembers where this batch ended. */
bool virtq_should_interrupt(struct virtq *q, const struct guest_mem *m);
/* Is a driver notification for a new available buffer wanted from now on?
 * With VIRTIO_F_EVENT_IDX, publishes avail_event = the next entry we would
 * take (2.7.10), so the driver notifies when it adds that one, then looks
 * again: true when buffers are already available (a driver that added them
 * before seeing avail_event will not notify: the caller must serve them).
 * Without the feature, only the second half: are buffers available? */
bool virtq_arm_notify(struct virtq *q, struct guest_mem *m);
/* The wrap-safe test of 2.7.7.2/2.7.10: has the index moved from old to
 * new past event (event in [old, new), modulo 2^16)? */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Copy between a chain's readable bytes (as one stream, from `off`) and a
 * host buffer, and from a host buffer into its writable bytes.  Return the
 * bytes copied (less than len when the part is shorter). */
uint64_t virtq_chain_read(const struct virtq_chain *c, const struct guest_mem *m, uint64_t off,
			  void *buf, uint64_t len);
uint64_t virtq_chain_write(const struct virtq_chain *c, struct guest_mem *m, uint64_t off,
			   const void *buf, uint64_t len);

/* ---- The virtio-mmio transport (4.2.2, version 2) */
#define VIRTIO_MMIO_MAGIC_VALUE        0x000 /* "virt" */
#define VIRTIO_MMIO_VERSION            0x004
#define VIRTIO_MMIO_DEVICE_ID          0x008
#define VIRTIO_MMIO_VENDOR_ID          0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES    0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES    0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL          0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX      0x034
#define VIRTIO_MMIO_QUEUE_NUM          0x038
#define VIRTIO_MMIO_QUEUE_READY        0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY       0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS   0x060
#define VIRTIO_MMIO_INTERRUPT_ACK      0x064
#define VIRTIO_MMIO_STATUS             0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW     0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH    0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW    0x090 /* QueueDriverLow */
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW     0x0a0 /* QueueDeviceLow */
#define VIRTIO_MMIO_QUEUE_USED_HIGH    0x0a4
#define VIRTIO_MMIO_SHM_SEL            0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW        0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH       0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW       0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH      0x0bc
#define VIRTIO_MMIO_QUEUE_RESET        0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION  0x0fc
#define VIRTIO_MMIO_CONFIG             0x100

#define VIRTIO_MMIO_MAGIC   0x74726976 /* "virt" little-endian */
#define VIRTIO_MMIO_VERSION_2 2        /* virtio 1.x register layout */
#define VIRTIO_MMIO_VENDOR  0x4e424f53 /* "SOBN": nobios; any value is allowed */
#define VIRTIO_MMIO_INT_VRING  1       /* InterruptStatus: used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG 2       /* InterruptStatus: configuration change */
#define VIRTIO_MMIO_WINDOW  0x1000
#define VIRTIO_MMIO_MAX_QUEUES 4

struct virtio_mmio;

/* What a device file supplies.  Every callback runs with the transport's
 * lock held (one request at a time per device, whichever vCPU notified). */
struct virtio_dev_ops {
	const char *name;      /* "virtio-blk" */
	uint32_t device_id;    /* VIRTIO_ID_* */
	unsigned nqueues;
	uint64_t features;     /* offered, besides VERSION_1, INDIRECT_DESC and EVENT_IDX */
	uint32_t config_len;   /* bytes of device configuration space */
	/* Read device configuration (the transport bounds off/size). */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, unsigned size);
	/* Optional: a driver write to configuration space. */
	void (*config_write)(void *dev, uint32_t off, const uint8_t *data, unsigned size);
	/* The driver notified queue q (ready, DRIVER_OK): serve what is
	 * available (virtio_mmio_queue), push completions, then
	 * virtio_mmio_interrupt. */
	void (*notify)(void *dev, struct virtio_mmio *t, unsigned q);
	/* Optional: the driver reset the device (Status 0). */
	void (*reset)(void *dev);
	/* Optional: the driver set DRIVER_OK (3.1.1 step 8): the queues may be
	 * used from now on, whether or not it notifies them (a device that
	 * feeds a queue from the host, like virtio-net's receive queue, looks
	 * at it here). */
	void (*driver_ok)(void *dev, struct virtio_mmio *t);
};

struct virtio_mmio {
	/* Register accesses come from any vCPU thread (the bus already
	 * serialises them; this lock keeps the device correct on its own). */
	pthread_mutex_t lock;
	const struct virtio_dev_ops *ops;
	void *dev;
	struct guest_mem *mem;
	struct dev_host *host;   /* NULL in unit tests that only read registers */
	uint64_t base;
	uint32_t gsi;
	uint32_t status;
	uint32_t isr;            /* InterruptStatus */
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint64_t dev_features;   /* ops->features | VERSION_1 | INDIRECT_DESC | EVENT_IDX */
	uint64_t drv_features;
	bool line;               /* interrupt line level as last set */
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
	uint64_t requests, bad_chains, interrupts; /* for -v */
	char label[48];          /* "virtio-blk vda" */
	/* The I/O thread (virtio_mmio_start_iothread): KVM turns each queue's
	 * QueueNotify write into an eventfd signal and the vCPU goes on at
	 * once; this thread serves the queue meanwhile. */
	int kick_fd[VIRTIO_MMIO_MAX_QUEUES];
	int stop_fd;
	pthread_t iothread;
	bool iothread_on;
	uint64_t kicks;          /* notifications the I/O thread took */
};

/* Set up the transport for a device (no bus registration): unit tests
 * drive virtio_mmio_read/write directly. */
void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      struct guest_mem *mem, struct dev_host *host, uint64_t base, uint32_t gsi);
/* Serve the device's queues in a thread of its own, kicked through
 * KVM_IOEVENTFD, so a vCPU that notifies is not held while its request is
 * served (the host's copy overlaps the guest's work, as with QEMU's
 * ioeventfd and I/O thread).  Without host->ioeventfd (unit tests), or
 * when KVM refuses it, notifications stay synchronous: 0 either way, -1
 * only when a thread or eventfd cannot be made.  The device's callbacks
 * then run in that thread, still one at a time under the transport lock. */
int virtio_mmio_start_iothread(struct virtio_mmio *t);
/* Stop and join the thread (nothing is served after); safe to repeat. */
void virtio_mmio_stop_iothread(struct virtio_mmio *t);
/* Register the window on the bus. 0 or -1 with nb_err(). */
int virtio_mmio_register(struct virtio_mmio *t, struct bus *b);
void virtio_mmio_read(void *opaque, uint64_t addr, uint8_t *data, unsigned size);
void virtio_mmio_write(void *opaque, uint64_t addr, const uint8_t *data, unsigned size);
/* A device's queue q, or NULL if it is not ready (or the device is not
 * DRIVER_OK, or needs a reset). */
struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned q);
/* Raise a used-buffer interrupt (InterruptStatus bit 0 and the line). */
void virtio_mmio_interrupt(struct virtio_mmio *t);
/* The ring is unusable: DEVICE_NEEDS_RESET and a configuration interrupt
 * (4.2.3.2: the device sets it and notifies). */
void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why);
/* Serve one notified queue with a per-chain handler: pops every available
 * chain, calls serve() for the good ones (which returns the used length),
 * returns the bad ones with length 0, pushes, and interrupts once. */
void virtio_mmio_serve(struct virtio_mmio *t, unsigned q, struct virtq_chain *scratch,
		       uint32_t (*serve)(void *dev, struct virtio_mmio *t, struct virtq_chain *c),
		       void *dev);
/* -v: one line with the window, GSI and counters. */
void virtio_mmio_describe(const struct virtio_mmio *t, FILE *out, const char *what);

/* ---- Devices, for unit tests (each file also registers itself with
 * DEVICE() and creates its devices from struct platform). */
struct disk_image;
struct vblk;
struct vrng;
struct vcon;
struct vnet;
/* A virtio-blk device on an open image; its transport is the first member
 * (cast the result to struct virtio_mmio *).  NULL when out of memory. */
struct vblk *virtio_blk_new(struct disk_image *img, const char *path, unsigned index,
			    struct guest_mem *mem, struct dev_host *host, uint64_t base,
			    uint32_t gsi);
struct vrng *virtio_rng_new(struct guest_mem *mem, struct dev_host *host, uint64_t base,
			    uint32_t gsi);
struct nb_share;
struct v9p;
/* A virtio-9p device serving one share (fs/p9.h); NULL with nb_err(). */
struct v9p *virtio_9p_new(const struct nb_share *sh, struct guest_mem *mem,
			  struct dev_host *host, uint64_t base, uint32_t gsi);
void virtio_9p_free(struct v9p *v);
struct vcon *virtio_console_new(struct guest_mem *mem, struct dev_host *host, uint64_t base,
				uint32_t gsi, int out);
/* A virtio-net device on an open TAP (or any fd with one frame per
 * read/write: a datagram socket in unit tests), without its receive
 * thread: tests call virtio_net_rx where the thread would. */
struct vnet *virtio_net_new(int tap, const uint8_t mac[6], const char *ifname,
			    struct guest_mem *mem, struct dev_host *host, uint64_t base,
			    uint32_t gsi);
/* Move frames from the TAP into posted receive buffers until the TAP is
 * empty or no buffer is posted.  Returns the frames the guest got. */
unsigned virtio_net_rx(struct vnet *n);
/* -v counters of one device. */
struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_too_big;   /* a frame larger than the posted buffer or than 65550 bytes */
	uint64_t rx_bad_chain; /* a receive chain with device-readable buffers or under 12 bytes */
	uint64_t tx_bad;       /* header missing or asking for an offload not negotiated */
	uint64_t tx_bad_size;  /* frame under 14 bytes (an Ethernet header) or over 65550 */
	uint64_t tx_errors;    /* the TAP refused the frame (interface down, ...) */
	uint64_t rx_waits;     /* times the receive side waited for the guest's buffers */
};
void virtio_net_stats(const struct vnet *n, struct virtio_net_stats *s);

#endif
