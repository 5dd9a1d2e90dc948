/* gdb_commands.c - the packets that act on the stopped vCPU (gdb manual,
 * appendix E "Packets" and "General Query Packets"): registers (g G p P),
 * memory through the guest's page tables (m M), breakpoints (Z z), resume
 * (c s), threads (H T qC qfThreadInfo), detach and kill (D k), the target
 * description (qXfer:features:read), and `monitor` commands (qRcmd).
 *
 * Why a file of its own: this is where gdb's requests meet the guest, so
 * every number in a packet is hostile here: register numbers, addresses,
 * lengths and thread ids are checked before they index anything, and
 * replies are sized by the packet limit we advertised, never by the
 * request.  Framing is gdb_packet.c's; what a breakpoint becomes on this
 * host is gdb_break.c's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/pagewalk.h"
#include "debug/gdbstub_int.h"

/* Send text to gdb's console (O packets), for `monitor` commands. */
static void console_out(struct gdbstub *g, const char *text, size_t len)
{
	char pkt[1 + 2 * 512 + 1];
	for (size_t off = 0; off < len; off += 512) {
		size_t n = len - off < 512 ? len - off : 512;
		pkt[0] = 'O';
		gdb_hex_encode(pkt + 1, (const uint8_t *)text + off, n);
		gdb_put_str(g, pkt);
	}
}

static void handle_rcmd(struct gdbstub *g, const char *hex)
{
	char cmd[128];
	size_t n = 0;
	while (hex[0] && hex[1] && n + 1 < sizeof(cmd)) {
		int h = gdb_hexval(hex[0]), l = gdb_hexval(hex[1]);
		if (h < 0 || l < 0)
			break;
		cmd[n++] = (char)(h << 4 | l);
		hex += 2;
	}
	cmd[n] = '\0';
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	if (!f) {
		gdb_put_str(g, "E01");
		return;
	}
	if (strcmp(cmd, "dump") == 0 || strcmp(cmd, "regs") == 0) {
		if (g->t.dump)
			g->t.dump(g->t.ctx, g->gcpu, f);
		else
			cpu_state_dump(f, &g->st);
	} else if (strncmp(cmd, "translate ", 10) == 0) {
		uint64_t va = strtoull(cmd + 10, NULL, 0), pa = 0;
		struct cpu_walk w;
		char d[256];
		cpu_translate(g->t.mem, &g->st, va, &pa, &w);
		fprintf(f, "%s\n", cpu_walk_describe(&w, va, pa, d, sizeof(d)));
	} else if (strcmp(cmd, "checks") == 0) {
		char c[2048];
		int k = cpu_check_entry_state(&g->st, c, sizeof(c));
		fprintf(f, "%d VMX guest-state check(s) violated\n%s", k, c);
	} else {
		fprintf(f, "nobios monitor commands: dump (decoded registers), translate VA "
			   "(page walk), checks (VMX guest-state checks)\n");
	}
	fclose(f);
	console_out(g, text, tlen);
	free(text);
	gdb_put_str(g, "OK");
}

static void handle_query(struct gdbstub *g, const char *p, char *out)
{
	if (strncmp(p, "qSupported", 10) == 0) {
		snprintf(out, 256, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;"
			 "QStartNoAckMode+", GDB_PACKET_MAX - 1);
		gdb_put_str(g, out);
	} else if (strncmp(p, "qXfer:features:read:target.xml:", 31) == 0) {
		const char *s = p + 31;
		uint64_t off, n;
		if (!gdb_parse_hex(&s, &off) || *s++ != ',' || !gdb_parse_hex(&s, &n) ||
		    gdb_load_state(g) < 0) {
			gdb_put_str(g, "E01");
			return;
		}
		/* The description follows the guest's mode at the time gdb
		 * reads it (at connection). */
		if (off == 0)
			g->is64 = (g->st.efer & X86_EFER_LMA) != 0;
		char *xml = gdb_target_xml(g->is64);
		size_t xl = xml ? strlen(xml) : 0;
		if (n > GDB_PACKET_MAX - 16)
			n = GDB_PACKET_MAX - 16;
		if (off >= xl) {
			gdb_put_str(g, "l");
		} else {
			size_t k = xl - off < n ? xl - off : n;
			out[0] = off + k >= xl ? 'l' : 'm';
			memcpy(out + 1, xml + off, k);
			gdb_put_packet(g, out, k + 1);
		}
		free(xml);
	} else if (strncmp(p, "qXfer:", 6) == 0) {
		gdb_put_str(g, "E00");
	} else if (strcmp(p, "qC") == 0) {
		snprintf(out, 32, "QC%x", g->cpu + 1);
		gdb_put_str(g, out);
	} else if (strcmp(p, "qfThreadInfo") == 0) {
		size_t o = 0;
		out[o++] = 'm';
		for (unsigned i = 0; i < g->t.ncpus && o + 12 < GDB_PACKET_MAX; i++)
			o += (size_t)sprintf(out + o, "%s%x", i ? "," : "", i + 1);
		out[o] = '\0';
		gdb_put_str(g, out);
	} else if (strcmp(p, "qsThreadInfo") == 0) {
		gdb_put_str(g, "l");
	} else if (strncmp(p, "qThreadExtraInfo,", 17) == 0) {
		const char *s = p + 17;
		uint64_t t = 0;
		gdb_parse_hex(&s, &t);
		char txt[32];
		snprintf(txt, sizeof(txt), "vCPU %u", (unsigned)(t ? t - 1 : 0));
		gdb_hex_encode(out, (const uint8_t *)txt, strlen(txt));
		gdb_put_str(g, out);
	} else if (strcmp(p, "qAttached") == 0) {
		gdb_put_str(g, "1");
	} else if (strncmp(p, "qSymbol", 7) == 0) {
		gdb_put_str(g, "OK");
	} else if (strncmp(p, "qRcmd,", 6) == 0) {
		if (gdb_load_state(g) < 0)
			gdb_put_str(g, "E01");
		else
			handle_rcmd(g, p + 6);
	} else {
		gdb_put_str(g, "");
	}
}

enum gdb_cmd_result gdb_handle_packet(struct gdbstub *g, char *p, int len, char *out)
{
	unsigned nregs = gdb_reg_count(g->is64);
	switch (p[0]) {
	case '?': {
		char buf[128];
		snprintf(buf, sizeof(buf), "T%02xthread:%x;%s", g->last_sig, g->cpu + 1,
			 g->last_reason);
		gdb_put_str(g, buf);
		return GDB_CMD_MORE;
	}
	case 'g': {
		size_t o = 0;
		if (gdb_load_state(g) < 0) {
			gdb_put_str(g, "E01");
			return GDB_CMD_MORE;
		}
		for (unsigned i = 0; i < nregs; i++)
			o += gdb_reg_hex(g->is64, i, &g->st, out + o);
		out[o] = '\0';
		gdb_put_str(g, out);
		return GDB_CMD_MORE;
	}
	case 'G': {
		if (gdb_load_state(g) < 0) {
			gdb_put_str(g, "E01");
			return GDB_CMD_MORE;
		}
		const char *s = p + 1;
		size_t avail = (size_t)len - 1;
		for (unsigned i = 0; i < nregs && avail; i++) {
			size_t k = gdb_reg_parse(g->is64, i, &g->st, s, avail, &g->st_dirty);
			if (!k)
				break;
			s += k;
			avail -= k;
		}
		gdb_put_str(g, "OK");
		return GDB_CMD_MORE;
	}
	case 'p': {
		const char *s = p + 1;
		uint64_t n;
		if (!gdb_parse_hex(&s, &n) || n >= nregs || gdb_load_state(g) < 0) {
			gdb_put_str(g, "E01");
			return GDB_CMD_MORE;
		}
		size_t o = gdb_reg_hex(g->is64, (unsigned)n, &g->st, out);
		out[o] = '\0';
		gdb_put_str(g, out);
		return GDB_CMD_MORE;
	}
	case 'P': {
		const char *s = p + 1;
		uint64_t n;
		if (!gdb_parse_hex(&s, &n) || *s != '=' || n >= nregs || gdb_load_state(g) < 0 ||
		    !gdb_reg_parse(g->is64, (unsigned)n, &g->st, s + 1, strlen(s + 1), &g->st_dirty)) {
			gdb_put_str(g, "E01");
			return GDB_CMD_MORE;
		}
		gdb_put_str(g, "OK");
		return GDB_CMD_MORE;
	}
	case 'm': {
		const char *s = p + 1;
		uint64_t addr, n;
		if (!gdb_parse_hex(&s, &addr) || *s++ != ',' || !gdb_parse_hex(&s, &n) ||
		    gdb_load_state(g) < 0) {
			gdb_put_str(g, "E01");
			return GDB_CMD_MORE;
		}
		if (n > (GDB_PACKET_MAX - 16) / 2)
			n = (GDB_PACKET_MAX - 16) / 2;
		uint8_t buf[GDB_PACKET_MAX / 2];
		size_t got = gdb_mem_read(g, addr, buf, n);
		if (!got && n) {
			gdb_put_str(g, "E14"); /* EFAULT */
			return GDB_CMD_MORE;
		}
		gdb_hex_encode(out, buf, got);
		gdb_put_str(g, out);
		return GDB_CMD_MORE;
	}
	case 'M': {
		const char *s = p + 1;
		uint64_t addr, n;
		if (!gdb_parse_hex(&s, &addr) || *s++ != ',' || !gdb_parse_hex(&s, &n) || *s++ != ':' ||
		    n > GDB_PACKET_MAX / 2 || strlen(s) < 2 * n || gdb_load_state(g) < 0) {
			gdb_put_str(g, "E01");
			return GDB_CMD_MORE;
		}
		uint8_t buf[GDB_PACKET_MAX / 2];
		for (uint64_t i = 0; i < n; i++) {
			int h = gdb_hexval(s[2 * i]), l = gdb_hexval(s[2 * i + 1]);
			if (h < 0 || l < 0) {
				gdb_put_str(g, "E01");
				return GDB_CMD_MORE;
			}
			buf[i] = (uint8_t)(h << 4 | l);
		}
		gdb_put_str(g, gdb_mem_write(g, addr, buf, n) == n ? "OK" : "E14");
		return GDB_CMD_MORE;
	}
	case 'Z':
	case 'z': {
		const char *s = p + 1;
		uint64_t type, addr, kind;
		if (!gdb_parse_hex(&s, &type) || *s++ != ',' || !gdb_parse_hex(&s, &addr) ||
		    *s++ != ',' || !gdb_parse_hex(&s, &kind) || gdb_load_state(g) < 0) {
			gdb_put_str(g, "E01");
			return GDB_CMD_MORE;
		}
		if (type > GDB_Z_ACCESS || kind > 8) {
			gdb_put_str(g, type > GDB_Z_ACCESS ? "" : "E01");
			return GDB_CMD_MORE;
		}
		int r = p[0] == 'Z' ? gdb_bp_insert(g, (unsigned)type, addr, (unsigned)kind)
				    : gdb_bp_remove(g, (unsigned)type, addr);
		gdb_put_str(g, r == 0 ? "OK" : r > 0 ? "" : "E01");
		return GDB_CMD_MORE;
	}
	case 'c':
	case 's': {
		if (gdb_load_state(g) < 0) {
			gdb_put_str(g, "E01");
			return GDB_CMD_MORE;
		}
		const char *s = p + 1;
		uint64_t addr;
		if (gdb_parse_hex(&s, &addr)) { /* resume at addr */
			g->st.rip = addr;
			g->st_dirty = true;
		}
		g->stepping = p[0] == 's';
		return GDB_CMD_RESUME;
	}
	case 'H':
		/* Hg/Hc: select a vCPU (0 / -1 = any). */
		if (p[1] == 'g') {
			const char *s = p + 2;
			uint64_t t;
			if (*s != '-' && gdb_parse_hex(&s, &t) && t >= 1 && t <= g->t.ncpus &&
			    t - 1 != g->gcpu) {
				gdb_flush_state(g);
				g->gcpu = (unsigned)t - 1;
			}
		}
		gdb_put_str(g, "OK");
		return GDB_CMD_MORE;
	case 'T': {
		const char *s = p + 1;
		uint64_t t;
		gdb_put_str(g, gdb_parse_hex(&s, &t) && t >= 1 && t <= g->t.ncpus ? "OK" : "E01");
		return GDB_CMD_MORE;
	}
	case 'D':
		gdb_put_str(g, "OK");
		return GDB_CMD_DETACH;
	case 'k':
		return GDB_CMD_KILL;
	case 'q':
		handle_query(g, p, out);
		return GDB_CMD_MORE;
	case 'Q':
		if (strcmp(p, "QStartNoAckMode") == 0) {
			gdb_put_str(g, "OK");
			g->noack = true;
		} else {
			gdb_put_str(g, "");
		}
		return GDB_CMD_MORE;
	default:
		gdb_put_str(g, ""); /* unsupported: gdb falls back (X -> M, vCont -> c/s) */
		return GDB_CMD_MORE;
	}
}
