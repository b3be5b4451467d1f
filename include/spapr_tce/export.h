/* SPDX-License-Identifier: MIT */
/*
 * STCE_API marks a function of the public API. libspapr-tce.so is built
 * with hidden visibility (meson.build): what carries STCE_API is exported,
 * everything else stays inside the library (tests/common/test_exports.py
 * checks both directions against these headers).
 */
#ifndef SPAPR_TCE_EXPORT_H
#define SPAPR_TCE_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define STCE_API __attribute__((visibility("default")))
#else
#define STCE_API
#endif

#endif /* SPAPR_TCE_EXPORT_H */
