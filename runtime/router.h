/* router.h: one adapter made of several: each operation goes to the adapter of the site where it
 * acts (op.site; the protected half of a failover to its devices' source site), so that a plan
 * can drive one site through an external program and another through the simulator. */
#ifndef DRP_ROUTER_H
#define DRP_ROUTER_H

#include "../compiler/dag.h"
#include "adapter.h"

/* by_site[i] is the adapter of d->sites[i], or NULL for `fallback`. The router owns them all:
 * closing it closes each distinct one once. */
struct adapter *router_new(const struct dag *d, struct adapter **by_site, struct adapter *fallback);

#endif
