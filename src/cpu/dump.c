/* dump.c - decoded register dumps and the VMX guest-state checks.
 *
 * The people who read these dumps are debugging a kernel that does not boot
 * yet, so every field that has names gets them (CR0 "PE ET PG", segment
 * type "code exec/read accessed") and the entry checks say in words which
 * rule of Intel SDM vol 3C 26.3.1 ("Checks on the Guest State Area") the
 * values break. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "cpu/cpu.h"

struct bitname {
	unsigned bit;
	const char *name;
};

static const struct bitname cr0_bits[] = {
	{0, "PE"}, {1, "MP"}, {2, "EM"}, {3, "TS"}, {4, "ET"}, {5, "NE"},
	{16, "WP"}, {18, "AM"}, {29, "NW"}, {30, "CD"}, {31, "PG"},
};
static const struct bitname cr4_bits[] = {
	{0, "VME"}, {1, "PVI"}, {2, "TSD"}, {3, "DE"}, {4, "PSE"}, {5, "PAE"},
	{6, "MCE"}, {7, "PGE"}, {8, "PCE"}, {9, "OSFXSR"}, {10, "OSXMMEXCPT"},
	{11, "UMIP"}, {12, "LA57"}, {13, "VMXE"}, {14, "SMXE"}, {16, "FSGSBASE"},
	{17, "PCIDE"}, {18, "OSXSAVE"}, {20, "SMEP"}, {21, "SMAP"}, {22, "PKE"},
	{23, "CET"}, {24, "PKS"},
};
static const struct bitname efer_bits[] = {
	{0, "SCE"}, {8, "LME"}, {10, "LMA"}, {11, "NXE"}, {12, "SVME"},
	{13, "LMSLE"}, {14, "FFXSR"}, {15, "TCE"},
};
static const struct bitname rflags_bits[] = {
	{0, "CF"}, {2, "PF"}, {4, "AF"}, {6, "ZF"}, {7, "SF"}, {8, "TF"},
	{9, "IF"}, {10, "DF"}, {11, "OF"}, {14, "NT"}, {16, "RF"}, {17, "VM"},
	{18, "AC"}, {19, "VIF"}, {20, "VIP"}, {21, "ID"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* "PE ET PG" plus "bit N" for set bits without a name. */
static void print_bits(FILE *out, uint64_t v, const struct bitname *t, size_t n)
{
	uint64_t named = 0;
	bool first = true;
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		named |= 1ULL << t[i].bit;
		if (v & (1ULL << t[i].bit)) {
			fprintf(out, "%s%s", first ? "" : " ", t[i].name);
			first = false;
		}
	}
	for (unsigned b = 0; b < 64; b++) {
		if ((v & ~named) & (1ULL << b)) {
			fprintf(out, "%sbit%u", first ? "" : " ", b);
			first = false;
		}
	}
	fputc(']', out);
}

const char *cpu_segment_type_name(const struct cpu_segment *seg, char *buf, size_t len)
{
	unsigned t = seg->type & 0xF;
	if (!seg->s) {
		static const char *const sys[16] = {
			"reserved system type 0", "16-bit available TSS", "LDT", "16-bit busy TSS",
			"16-bit call gate", "task gate", "16-bit interrupt gate", "16-bit trap gate",
			"reserved system type 8", "32/64-bit available TSS", "reserved system type 10",
			"32/64-bit busy TSS", "32/64-bit call gate", "reserved system type 13",
			"32/64-bit interrupt gate", "32/64-bit trap gate",
		};
		snprintf(buf, len, "%s", sys[t]);
	} else if (t & 8) {
		snprintf(buf, len, "code exec%s%s%s", (t & 2) ? "/read" : "-only",
			 (t & 4) ? " conforming" : "", (t & 1) ? " accessed" : "");
	} else {
		snprintf(buf, len, "data %s%s%s", (t & 2) ? "read/write" : "read-only",
			 (t & 4) ? " expand-down" : "", (t & 1) ? " accessed" : "");
	}
	return buf;
}

static void print_seg(FILE *out, const char *name, const struct cpu_segment *g)
{
	char tn[48];
	fprintf(out, "%-3s %04x base=%016" PRIx64 " limit=%08" PRIx32, name, g->selector, g->base,
		g->limit);
	if (g->unusable) {
		fprintf(out, " unusable\n");
		return;
	}
	fprintf(out, " type=%x %s %sDPL=%u%s%s%s%s RPL=%u%s\n", g->type,
		cpu_segment_type_name(g, tn, sizeof(tn)), g->present ? "P " : "NOT-PRESENT ", g->dpl,
		g->l ? " L" : "", g->db ? " D/B" : "", g->g ? " G" : "", g->avl ? " AVL" : "",
		(unsigned)(g->selector & 3), (g->selector & 4) ? " TI=LDT" : "");
}

/* Likely causes a reader would otherwise have to work out from the SDM. */
static void dump_hints(FILE *out, const struct cpu_state *s, enum cpu_mode mode)
{
	if ((s->efer & X86_EFER_LME) && !(s->efer & X86_EFER_LMA) && !(s->cr4 & X86_CR4_PAE))
		fprintf(out, "hint: EFER.LME=1 without CR4.PAE: setting CR0.PG raises #GP "
			     "(SDM 10.8.5: enable PAE before paging in long mode)\n");
	if (mode == CPU_MODE_REAL)
		return;
	const struct { const char *n; const struct cpu_segment *g; } segs[] = {
		{"CS", &s->cs}, {"SS", &s->ss}, {"DS", &s->ds}, {"ES", &s->es},
		{"FS", &s->fs}, {"GS", &s->gs}, {"TR", &s->tr},
	};
	bool first = true;
	for (size_t i = 0; i < NELEM(segs); i++) {
		uint16_t sel = segs[i].g->selector;
		if ((sel & ~3u) == 0 || (sel & 4))
			continue;
		if ((uint32_t)(sel & ~7u) + 7 > s->gdt.limit) {
			if (first)
				fprintf(out, "hint: selectors beyond GDTR.limit 0x%04x (reloading one "
					     "raises #GP):", s->gdt.limit);
			fprintf(out, " %s=0x%04x", segs[i].n, sel);
			first = false;
		}
	}
	if (!first)
		fputc('\n', out);
	if (s->idt.limit == 0)
		fprintf(out, "hint: IDTR.limit is 0: the first exception becomes #DF, then a "
			     "triple fault\n");
}

void cpu_state_dump(FILE *out, const struct cpu_state *s)
{
	enum cpu_mode mode = cpu_mode_of(s);
	/* CPL is SS.DPL (SDM 5.5; VMCS "DPL of SS is always CPL"); in real
	 * mode it is 0 and in virtual-8086 mode 3. */
	unsigned cpl = mode == CPU_MODE_REAL ? 0 : (s->rflags & X86_RFLAGS_VM) ? 3 : s->ss.dpl;
	const char *mname = (s->rflags & X86_RFLAGS_VM) && mode != CPU_MODE_REAL
				    ? "virtual-8086 mode"
				    : cpu_mode_name(mode);
	if (mode == CPU_MODE_LONG)
		fprintf(out, "RIP=%016" PRIx64 " (%s, CPL %u)\n", s->rip, mname, cpl);
	else
		fprintf(out, "RIP=%016" PRIx64 " CS:%s=%04x:%0*" PRIx64 " linear=%08" PRIx64
			" (%s, CPL %u, paging %s)\n",
			s->rip, mode == CPU_MODE_REAL ? "IP" : "EIP", s->cs.selector,
			mode == CPU_MODE_REAL ? 4 : 8, s->rip & 0xFFFFFFFF,
			(s->cs.base + s->rip) & 0xFFFFFFFF, mname, cpl,
			(s->cr0 & X86_CR0_PG) ? "on" : "off");
	static const char *const gname[CPU_NGPR] = {
		"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
		"R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15",
	};
	/* Printed in the order people read them (rax rbx rcx rdx). */
	static const int order[CPU_NGPR] = {
		CPU_RAX, CPU_RBX, CPU_RCX, CPU_RDX, CPU_RSI, CPU_RDI, CPU_RBP, CPU_RSP,
		CPU_R8, CPU_R9, CPU_R10, CPU_R11, CPU_R12, CPU_R13, CPU_R14, CPU_R15,
	};
	for (int i = 0; i < CPU_NGPR; i++)
		fprintf(out, "%s=%016" PRIx64 "%s", gname[order[i]], s->gpr[order[i]],
			(i % 4 == 3) ? "\n" : " ");
	fprintf(out, "RFLAGS=%016" PRIx64 " ", s->rflags);
	print_bits(out, s->rflags & ~X86_RFLAGS_FIXED, rflags_bits, NELEM(rflags_bits));
	fprintf(out, " IOPL=%u\n", (unsigned)((s->rflags >> 12) & 3));
	fprintf(out, "CR0=%016" PRIx64 " ", s->cr0);
	print_bits(out, s->cr0, cr0_bits, NELEM(cr0_bits));
	fprintf(out, "\nCR2=%016" PRIx64 " CR3=%016" PRIx64 " CR8=%" PRIx64 "\n", s->cr2, s->cr3,
		s->cr8);
	fprintf(out, "CR4=%016" PRIx64 " ", s->cr4);
	print_bits(out, s->cr4, cr4_bits, NELEM(cr4_bits));
	fprintf(out, "\nEFER=%016" PRIx64 " ", s->efer);
	print_bits(out, s->efer, efer_bits, NELEM(efer_bits));
	fputc('\n', out);
	print_seg(out, "CS", &s->cs);
	print_seg(out, "SS", &s->ss);
	print_seg(out, "DS", &s->ds);
	print_seg(out, "ES", &s->es);
	print_seg(out, "FS", &s->fs);
	print_seg(out, "GS", &s->gs);
	print_seg(out, "TR", &s->tr);
	print_seg(out, "LDT", &s->ldt);
	fprintf(out, "GDTR base=%016" PRIx64 " limit=%04x (%u entries)\n", s->gdt.base, s->gdt.limit,
		(s->gdt.limit + 1u) / 8);
	fprintf(out, "IDTR base=%016" PRIx64 " limit=%04x (%u vectors)%s\n", s->idt.base,
		s->idt.limit, (s->idt.limit + 1u) / (mode == CPU_MODE_LONG || mode == CPU_MODE_LONG_COMPAT ? 16 : mode == CPU_MODE_REAL ? 4 : 8),
		s->idt.limit == 0 && mode != CPU_MODE_REAL ? " (empty: any exception triple-faults)" : "");
	dump_hints(out, s, mode);
}

/* ---- VMX guest-state checks (SDM vol 3C 26.3.1.1-26.3.1.4) ---- */

struct findings {
	char *out;
	size_t len, used;
	int n;
};

static void __attribute__((format(printf, 2, 3))) note(struct findings *f, const char *fmt, ...)
{
	f->n++;
	if (!f->out || f->len == 0 || f->used >= f->len - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(f->out + f->used, f->len - f->used, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	f->used += (size_t)k;
	if (f->used >= f->len - 1) {
		f->used = f->len - 1;
		return;
	}
	f->out[f->used++] = '\n';
	f->out[f->used] = '\0';
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* G must match the limit: limit[11:0] not all ones => G=0; limit[31:20]
 * non-zero => G=1 (26.3.1.2, "Bit 15 (G)"). */
static void check_granularity(struct findings *f, const char *name, const struct cpu_segment *g)
{
	if ((g->limit & 0xFFF) != 0xFFF && g->g)
		note(f, "%s.G=1 but limit 0x%x is not 4 KiB-granular", name, g->limit);
	if ((g->limit & 0xFFF00000) && !g->g)
		note(f, "%s.G=0 but limit 0x%x exceeds 1 MiB", name, g->limit);
}

int cpu_check_entry_state_ex(const struct cpu_state *s, unsigned flags, char *out, size_t len)
{
	struct findings fs = {out, len, 0, 0};
	struct findings *f = &fs;
	if (out && len)
		out[0] = '\0';
	bool ug = !(flags & CPU_CHECK_NO_UNRESTRICTED);
	bool pe = s->cr0 & X86_CR0_PE, pg = s->cr0 & X86_CR0_PG;
	bool ia32e = s->efer & X86_EFER_LMA; /* the "IA-32e mode guest" entry control */
	bool v86 = s->rflags & X86_RFLAGS_VM;

	/* 26.3.1.1 control registers, debug registers, MSRs. */
	if (pg && !pe)
		note(f, "CR0.PG=1 with CR0.PE=0");
	if (!ug && !pe)
		note(f, "real mode with CR0.PE=0 but unrestricted guest off");
	if (!ug && !pg)
		note(f, "CR0.PG=0 but unrestricted guest off");
	if ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD))
		note(f, "CR0.NW=1 with CR0.CD=0 (invalid cache mode)");
	if (s->cr0 >> 32)
		note(f, "CR0 bits 63:32 set (0x%llx)", (unsigned long long)(s->cr0 >> 32));
	if (ia32e && !pg)
		note(f, "IA-32e mode (EFER.LMA=1) with CR0.PG=0");
	if (ia32e && !(s->cr4 & X86_CR4_PAE))
		note(f, "long mode without CR4.PAE");
	if (!ia32e && (s->cr4 & X86_CR4_PCIDE))
		note(f, "CR4.PCIDE=1 outside IA-32e mode");
	if (s->cr3 >> 52)
		note(f, "CR3 bits beyond the physical-address width set (0x%llx)",
		     (unsigned long long)s->cr3);
	/* EFER: LMA must match the IA-32e control (true by construction
	 * here), and with CR0.PG=1 LME must equal LMA. */
	if (pg && (s->efer & X86_EFER_LME) && !ia32e)
		note(f, "EFER.LME=1 with CR0.PG=1 but EFER.LMA=0");
	if (pg && ia32e && !(s->efer & X86_EFER_LME))
		note(f, "EFER.LMA=1 with CR0.PG=1 but EFER.LME=0");
	if (s->efer & ~0xFF01ULL & ~0xF00ULL)
		note(f, "EFER reserved bits set (0x%llx)", (unsigned long long)s->efer);

	/* 26.3.1.2 segment registers. */
	if (s->tr.selector & 4)
		note(f, "TR selector 0x%x has TI=1 (must be in the GDT)", s->tr.selector);
	if (!s->ldt.unusable && (s->ldt.selector & 4))
		note(f, "LDTR selector 0x%x has TI=1", s->ldt.selector);
	if (!v86 && !ug && (s->ss.selector & 3) != (s->cs.selector & 3))
		note(f, "SS.RPL (%u) != CS.RPL (%u)", s->ss.selector & 3, s->cs.selector & 3);
	if (!canonical(s->tr.base))
		note(f, "TR base 0x%llx not canonical", (unsigned long long)s->tr.base);
	if (!canonical(s->fs.base))
		note(f, "FS base 0x%llx not canonical", (unsigned long long)s->fs.base);
	if (!canonical(s->gs.base))
		note(f, "GS base 0x%llx not canonical", (unsigned long long)s->gs.base);
	if (!s->ldt.unusable && !canonical(s->ldt.base))
		note(f, "LDTR base 0x%llx not canonical", (unsigned long long)s->ldt.base);
	if (s->cs.base >> 32)
		note(f, "CS base bits 63:32 set (0x%llx)", (unsigned long long)s->cs.base);
	const struct { const char *n; const struct cpu_segment *g; } data[] = {
		{"SS", &s->ss}, {"DS", &s->ds}, {"ES", &s->es}, {"FS", &s->fs}, {"GS", &s->gs},
	};
	for (unsigned i = 0; i < 3; i++)
		if (!data[i].g->unusable && (data[i].g->base >> 32))
			note(f, "%s base bits 63:32 set", data[i].n);

	if (v86) {
		const struct { const char *n; const struct cpu_segment *g; } all[] = {
			{"CS", &s->cs}, {"SS", &s->ss}, {"DS", &s->ds},
			{"ES", &s->es}, {"FS", &s->fs}, {"GS", &s->gs},
		};
		if (ia32e || !pe)
			note(f, "RFLAGS.VM=1 in IA-32e mode or with CR0.PE=0");
		for (unsigned i = 0; i < NELEM(all); i++) {
			const struct cpu_segment *g = all[i].g;
			if (g->base != (uint64_t)g->selector << 4)
				note(f, "virtual-8086: %s base 0x%llx != selector*16", all[i].n,
				     (unsigned long long)g->base);
			if (g->limit != 0xFFFF)
				note(f, "virtual-8086: %s limit 0x%x != 0xffff", all[i].n, g->limit);
			if (g->type != 3 || !g->s || g->dpl != 3 || !g->present)
				note(f, "virtual-8086: %s access rights not 0xf3", all[i].n);
		}
	} else {
		/* CS: accessed code (or type 3 with unrestricted guest). */
		const struct cpu_segment *cs = &s->cs, *ss = &s->ss;
		bool cs_t3 = ug && cs->type == 3;
		if (!cs_t3 && (cs->type & 9) != 9)
			note(f, "CS type %u is not an accessed code segment (9, 11, 13, 15)", cs->type);
		if (!cs->s)
			note(f, "CS.S=0 (system descriptor in CS)");
		if (!cs->present)
			note(f, "CS not present (P=0)");
		if (cs_t3 && cs->dpl != 0)
			note(f, "CS type 3 with DPL %u (must be 0)", cs->dpl);
		if ((cs->type == 9 || cs->type == 11) && cs->dpl != ss->dpl)
			note(f, "SS.DPL != CS.DPL (%u != %u) with non-conforming CS", ss->dpl, cs->dpl);
		if ((cs->type == 13 || cs->type == 15) && cs->dpl > ss->dpl)
			note(f, "conforming CS.DPL %u > SS.DPL %u", cs->dpl, ss->dpl);
		if (cs->l && cs->db && ia32e)
			note(f, "CS.L and CS.D both set");
		if (cs->l && !ia32e)
			note(f, "CS.L=1 outside IA-32e mode");
		check_granularity(f, "CS", cs);
		/* SS. */
		if (!ss->unusable) {
			if (ss->type != 3 && ss->type != 7)
				note(f, "SS type %u is not read/write accessed data (3 or 7)", ss->type);
			if (!ss->s)
				note(f, "SS.S=0 (system descriptor in SS)");
			if (!ss->present)
				note(f, "SS not present (P=0)");
			check_granularity(f, "SS", ss);
		}
		if (!ug && ss->dpl != (ss->selector & 3u))
			note(f, "SS.DPL %u != SS.RPL %u", ss->dpl, ss->selector & 3u);
		if (!pe && ss->dpl != 0)
			note(f, "SS.DPL %u with CR0.PE=0 (must be 0)", ss->dpl);
		/* DS, ES, FS, GS when usable. */
		for (unsigned i = 1; i < NELEM(data); i++) {
			const struct cpu_segment *g = data[i].g;
			if (g->unusable)
				continue;
			if (!(g->type & 1))
				note(f, "%s type %u not accessed (bit 0 clear)", data[i].n, g->type);
			if ((g->type & 8) && !(g->type & 2))
				note(f, "%s is an execute-only code segment", data[i].n);
			if (!g->s)
				note(f, "%s.S=0 (system descriptor)", data[i].n);
			if (!g->present)
				note(f, "%s not present (P=0)", data[i].n);
			if (!ug && g->type <= 11 && g->dpl < (g->selector & 3u))
				note(f, "%s.DPL %u < RPL %u", data[i].n, g->dpl, g->selector & 3u);
			check_granularity(f, data[i].n, g);
		}
	}
	/* TR. */
	if (s->tr.unusable)
		note(f, "TR unusable");
	if (ia32e ? s->tr.type != 11 : (s->tr.type != 3 && s->tr.type != 11))
		note(f, "TR type %u is not a busy TSS (%s)", s->tr.type,
		     ia32e ? "11 in IA-32e mode" : "3 or 11");
	if (s->tr.s)
		note(f, "TR.S=1 (TR must be a system descriptor)");
	if (!s->tr.present)
		note(f, "TR not present (P=0)");
	check_granularity(f, "TR", &s->tr);
	/* LDTR when usable. */
	if (!s->ldt.unusable) {
		if (s->ldt.type != 2)
			note(f, "LDTR type %u is not LDT (2)", s->ldt.type);
		if (s->ldt.s)
			note(f, "LDTR.S=1");
		if (!s->ldt.present)
			note(f, "LDTR not present (P=0)");
		check_granularity(f, "LDTR", &s->ldt);
	}

	/* 26.3.1.3 descriptor-table registers. */
	if (!canonical(s->gdt.base))
		note(f, "GDTR base 0x%llx not canonical", (unsigned long long)s->gdt.base);
	if (!canonical(s->idt.base))
		note(f, "IDTR base 0x%llx not canonical", (unsigned long long)s->idt.base);

	/* 26.3.1.4 RIP and RFLAGS. */
	if ((!ia32e || !s->cs.l) && (s->rip >> 32))
		note(f, "RIP 0x%llx has bits 63:32 set outside 64-bit mode",
		     (unsigned long long)s->rip);
	if (ia32e && s->cs.l && !canonical(s->rip))
		note(f, "RIP 0x%llx not canonical", (unsigned long long)s->rip);
	if (!(s->rflags & X86_RFLAGS_FIXED))
		note(f, "RFLAGS bit 1 is 0 (must be 1)");
	if (s->rflags & 0xFFFFFFFFFFC08028ULL)
		note(f, "RFLAGS reserved bits set (0x%llx)", (unsigned long long)s->rflags);
	return f->n;
}

int cpu_check_entry_state(const struct cpu_state *s, char *out, size_t len)
{
	return cpu_check_entry_state_ex(s, 0, out, len);
}
