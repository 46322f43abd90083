/* The fake MCA registers of tests/host/fake_mca.c (see there). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define FAKE_MCA_CPUS 4
#define FAKE_MCA_BANKS 32
struct fake_mca_cpu {
	uint64_t bank[FAKE_MCA_BANKS][5]; /* indexed by enum arch_mca_reg */
	uint64_t mcg[3];		  /* indexed by enum arch_mcg_reg */
};
extern struct fake_mca_cpu fake_mca[FAKE_MCA_CPUS];
extern uint64_t fake_mca_cap_value;
extern bool fake_mca_intel;
/* arch_mca_fixup(fake_mca_fixup_ip) returns fake_mca_fixup_to. */
extern uint64_t fake_mca_fixup_ip, fake_mca_fixup_to;
extern unsigned fake_mca_mc_raised, fake_mca_cmci_raised;
