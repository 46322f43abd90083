/* The block drivers' entry points: each finds its PCI devices (pci_init has run), sets them
 * up and registers a block device for each (include/blk.h). */
#pragma once

/* drivers/virtio_blk.c: every modern virtio-blk function as vda, vdb, ... Returns how many
 * were registered. Boot, process context, interrupts enabled. */
int virtio_blk_probe_all(void);
/* drivers/nvme.c: namespace 1 of every NVMe controller as nvme0n1, nvme1n1, ... Returns how
 * many were registered. Boot, process context, interrupts enabled. */
int nvme_probe_all(void);
