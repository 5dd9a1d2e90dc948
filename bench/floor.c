/* floor.c - the least a KVM monitor can do: create a VM with one vCPU, run a
 * 3-instruction real-mode guest that writes to port 0xF4, exit.  The
 * benchmark's lower bound for "start a VM and leave it". */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

int main(void)
{
	/* mov al, 0 ; out 0xf4, al ; hlt */
	static const uint8_t code[] = { 0xB0, 0x00, 0xE6, 0xF4, 0xF4 };
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) { perror("/dev/kvm"); return 2; }
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	size_t memsz = 0x10000;
	uint8_t *mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy(mem + 0x1000, code, sizeof(code));
	struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0,
		.memory_size = memsz, .userspace_addr = (uintptr_t)mem };
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) { perror("vm"); return 2; }
	int cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	int runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	struct kvm_sregs s;
	ioctl(cpu, KVM_GET_SREGS, &s);
	s.cs.base = 0;
	s.cs.selector = 0;
	ioctl(cpu, KVM_SET_SREGS, &s);
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	ioctl(cpu, KVM_SET_REGS, &regs);
	for (;;) {
		if (ioctl(cpu, KVM_RUN, 0) < 0) { perror("KVM_RUN"); return 2; }
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xF4) {
			uint8_t v = *((uint8_t *)run + run->io.data_offset);
			return (v << 1) | 1;
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
			return 2;
		}
	}
}
