/* lwIP's port header for wasm32 without an operating system: the C library of the
 * wasi sysroot only for its headers and its freestanding string functions; time,
 * randomness and failure come from the JavaScript host (glue.c's imports). */
#ifndef EL_ARCH_CC_H
#define EL_ARCH_CC_H

#include <stdint.h>
#include <stddef.h>

#define LWIP_NO_INTTYPES_H 1
#define U16_F "hu"
#define S16_F "hd"
#define X16_F "hx"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_NO_CTYPE_H 1

/* No printf in the module: diagnostics are dropped, assertions abort with the file and line. */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
void el_assert_failed(const char *file, int line);
#define LWIP_PLATFORM_ASSERT(x) el_assert_failed(__FILE__, __LINE__)

uint32_t el_host_rand(void);
#define LWIP_RAND() el_host_rand()

#endif
