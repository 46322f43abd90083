/* The block drivers' entry points: each finds its PCI devices (pci_init has run), sets them
 * up and registers a block device for each (include/blk.h). */
#pragma once

/* drivers/virtio_blk.c: every modern virtio-blk function as vda, vdb, ... Returns how many
 * were registered. Boot, process context, interrupts enabled. */
int virtio_blk_probe_all(void);
