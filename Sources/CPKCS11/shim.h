#ifndef COFFER_CPKCS11_SHIM_H
#define COFFER_CPKCS11_SHIM_H

/*
 * PKCS#11 v2.40 declarations from p11-kit (pkg-config "p11-kit-1" supplies
 * -I/usr/include/p11-kit-1). Only the types and constants are used: the
 * module itself is loaded at run time with dlopen, so nothing in this module
 * links against a PKCS#11 implementation.
 *
 * p11-kit's header is in "compatibility" mode by default (CRYPTOKI_GNU not
 * defined), which maps its snake_case names onto the standard PKCS#11 names
 * (CK_ATTRIBUTE.pValue, CK_GCM_PARAMS.ulIvBits, ...).
 */
#if __has_include(<p11-kit/pkcs11.h>)
#include <p11-kit/pkcs11.h>
#else
/* pkg-config unavailable: fall back to libp11-kit-dev's standard location. */
#include "/usr/include/p11-kit-1/p11-kit/pkcs11.h"
#endif

#endif
