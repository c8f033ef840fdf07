#ifndef CLZ4_SHIM_H
#define CLZ4_SHIM_H
#include <lz4.h>
/* For the dictionary functions (LZ4F_createCDict, LZ4F_compressFrame_usingCDict,
   LZ4F_decompress_usingDict): declared only under this macro, exported by Debian's
   liblz4 (1.9.4). */
#define LZ4F_STATIC_LINKING_ONLY
#include <lz4frame.h>
#endif
