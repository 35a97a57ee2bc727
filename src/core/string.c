#include "string.h"

#include <stdint.h>

/* REP MOVSB/STOSB: one instruction for the whole block (fast-string operation, SDM
 * vol.1 7.3.9.3), which matters for the VMCB and permission-map copies on every nested
 * VMRUN. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t quads = n / 8, rest = n % 8;
	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(quads) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(rest) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d < s) {
		return memcpy(dst, src, n); /* forward copy is safe when dst is below src */
	} else if (d > s) {
		/* Backwards, highest address first (DF=1, SDM vol.1 7.3.9.3): the odd tail byte by
		 * byte, then 8 bytes per move. Linux's vmlinux is moved up this way at boot. */
		size_t quads = n / 8, rest = n % 8;
		uintptr_t dt = (uintptr_t)d + n - 1, st = (uintptr_t)s + n - 1;
		__asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(dt), "+S"(st), "+c"(rest) : : "memory");
		uintptr_t dq = (uintptr_t)d + quads * 8 - 8, sq = (uintptr_t)s + quads * 8 - 8;
		__asm__ volatile("std\n\trep movsq\n\tcld" : "+D"(dq), "+S"(sq), "+c"(quads) : : "memory");
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t quads = n / 8, rest = n % 8;
	uint64_t pattern = (uint8_t)c * 0x0101010101010101ull;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(quads) : "a"(pattern) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(rest) : "a"(pattern) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}
