/* FNV-1a 64: the hash image.h names for the vdso bytes (ckpt_process.vdso_hash). */
#ifndef CKPTY_FNV_H
#define CKPTY_FNV_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t fnv1a64(const uint8_t *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 0x100000001b3ull;
	return h;
}

#endif
