/* SPDX-License-Identifier: MIT */
/*
 * Internal to src/prereg: what prereg.c (regions) and pin.c (v1 pins)
 * share. Both pin through src/hostmem (a reference, no mlock), so they
 * no longer coordinate residency; they share the fork-child reset.
 */
#ifndef STCE_PREREG_INTERNAL_H
#define STCE_PREREG_INTERNAL_H

void stce_pin_lock(void);
void stce_pin_unlock(void);

/* fork child: start with no regions / no v1 pins (pthread_atfork). */
void stce_prereg_atfork_child(void);
void stce_pin_atfork_child(void);

#endif /* STCE_PREREG_INTERNAL_H */
