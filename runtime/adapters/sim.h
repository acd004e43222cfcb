/* sim.h: the simulator adapter, the default of `drplan run`: a world of sites, hosts, replicated and
 * stretched devices and VMs, derived from the compiled plan, that enforces the physics of a failover
 * and keeps its state durable in a directory (docs/simulator.md). */
#ifndef DRP_SIM_H
#define DRP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../compiler/dag.h"
#include "../../lib/buf.h"
#include "../adapter.h"

/* The strings and arrays are copied by sim_open: the caller may free them afterwards. Names in
 * `fail` and `transient` may be glob patterns (lib/glob.h). */
struct sim_options {
	const char *state_dir;          /* NULL: keep the world in memory only (tests, plan estimates) */
	uint64_t seed;
	bool virtual_time;
	double time_scale;              /* real time: sleep duration * time_scale */
	const char *const *down_sites; uint32_t n_down_sites;
	const char *const *fail; uint32_t n_fail;          /* op ids or VM names that fail for good */
	const char *const *transient; uint32_t n_transient; /* op ids that fail transiently... */
	uint32_t transient_failures;    /* ... this many times, then succeed */
	/* "DEVICE=STATE" (completed, in-progress or none): the storage-migration records that the
	 * recovered copy of DEVICE holds, instead of the compiled plan's state; DEVICE may be a
	 * pattern. A register chooses the copy of a VM being moved from these (docs/simulator.md). */
	const char *const *records; uint32_t n_records;
	/* Acknowledge an effect once its effects.log line is written, and make it durable (fdatasync)
	 * only at the vtable's flush, which the scheduler calls before each journal commit. Off: every
	 * call waits for its lines to be synced (group commit across concurrent calls). */
	bool defer_sync;
};

/* Opens (or creates) the simulated world for this compiled plan. NULL with err set on failure (a
 * state dir whose world belongs to another plan is refused unless it was never used). The DAG must
 * outlive the adapter. Close it through a->vt->close, which writes the final snapshot. */
struct adapter *sim_open(const struct dag *d, const struct sim_options *o, char *err, size_t errlen);
/* Writes DIR/world.yaml atomically: the world as of the last effect (after making that effect
 * durable in effects.log). True without doing anything for an in-memory world. */
bool sim_checkpoint(struct adapter *a, char *err, size_t errlen);
/* For tests and the end-of-run report: a VM's state in words ("on at west (esx-w01)", ...). */
void sim_describe_vm(struct adapter *a, const char *vm, struct buf *out);

/* A device's state in words ("source lun-1 at east writable, peer lun-1p at west passive,
 * replicating east -> west"; "stretched, prefers west"), for tests and reports. */
void sim_describe_device(struct adapter *a, const char *device, struct buf *out);
/* How many effects the world has applied since it was created (the last effects.log seq). */
uint64_t sim_effects(struct adapter *a);

#endif
