#include "nested/map_track.h"

static int find(const struct map_track *t, uint64_t page)
{
	for (unsigned i = 0; i < t->nr; i++)
		if (t->pages[i].gpa == page)
			return (int)i;
	return -1;
}

static void remove_at(struct map_track *t, unsigned i)
{
	t->pages[i] = t->pages[t->nr - 1];
	t->nr--;
}

int map_track_add(struct map_track *t, uint64_t gpa, unsigned vcpu)
{
	if (vcpu >= MAP_TRACK_MAX_VCPUS)
		return -1;
	uint64_t page = gpa & ~MAP_TRACK_PAGE_MASK;
	int i = find(t, page);
	if (i >= 0) {
		t->pages[i].vcpus |= 1ull << vcpu;
		return 0;
	}
	if (t->nr >= MAP_TRACK_MAX_PAGES)
		return -1;
	t->pages[t->nr].gpa = page;
	t->pages[t->nr].vcpus = 1ull << vcpu;
	t->nr++;
	return 1;
}

uint64_t map_track_write(struct map_track *t, uint64_t gpa)
{
	int i = find(t, gpa & ~MAP_TRACK_PAGE_MASK);
	if (i < 0)
		return 0;
	uint64_t vcpus = t->pages[i].vcpus;
	remove_at(t, (unsigned)i);
	return vcpus;
}

unsigned map_track_drop_vcpu(struct map_track *t, unsigned vcpu, uint64_t *freed, unsigned max_freed)
{
	unsigned n = 0;
	if (vcpu >= MAP_TRACK_MAX_VCPUS)
		return 0;
	for (unsigned i = 0; i < t->nr;) {
		t->pages[i].vcpus &= ~(1ull << vcpu);
		if (t->pages[i].vcpus) {
			i++;
			continue;
		}
		if (n < max_freed)
			freed[n++] = t->pages[i].gpa;
		remove_at(t, i); /* the last entry moves to i: look at i again */
	}
	return n;
}

bool map_track_has(const struct map_track *t, uint64_t gpa)
{
	return find(t, gpa & ~MAP_TRACK_PAGE_MASK) >= 0;
}

int map_words_collect(const uint64_t *map, unsigned words, struct map_word *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < words; i++) {
		if (!map[i])
			continue;
		if (n == max)
			return -1;
		out[n].index = i;
		out[n].bits = map[i];
		n++;
	}
	return (int)n;
}

void map_words_or(uint64_t *dst, const struct map_word *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		dst[w[i].index] |= w[i].bits;
}
