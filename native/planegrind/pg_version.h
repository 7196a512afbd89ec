/* The planegrind version, printed at start-up and in every taint log header. */
#ifndef PG_VERSION_H
#define PG_VERSION_H
#define PG_VERSION "0.1.0"
#endif
