#!/usr/bin/env python3
"""tests/svm/kvm_hold.py - hold one KVM VM open for the SVM test host's life.

The test host's kernel turns some static keys on while any VM exists, or
any vCPU whose local APIC is still software-disabled (KVM's preempt
notifiers, apic_sw_disabled): creating the first such VM or vCPU, or
destroying the last, rewrites kernel text through int3 breakpoints
(text_poke_bp).  QEMU 7.2's multi-threaded TCG now and then leaves a CPU
taking that int3 forever after the rewrite (seen: CPU 0 looping on the
int3 at finish_task_switch's preempt-notifier branch, CPU 1 waiting for it
with interrupts off; the test host stalled).  Every test run creates and
destroys a VM, so with nothing else open each one rewrote that text twice.
This VM (in-kernel irqchip, one vCPU that never runs, its APIC never
enabled) keeps those keys on, so the tests' VMs come and go without it.
Started in the background by tests/svm/init; best effort.
"""
import fcntl
import os
import signal

KVM_CREATE_VM = 0xAE01       # _IO(KVMIO, 0x01)
KVM_CREATE_VCPU = 0xAE41     # _IO(KVMIO, 0x41)
KVM_CREATE_IRQCHIP = 0xAE60  # _IO(KVMIO, 0x60)

kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
fcntl.ioctl(vm, KVM_CREATE_IRQCHIP, 0)
vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
while True:
    signal.pause()
