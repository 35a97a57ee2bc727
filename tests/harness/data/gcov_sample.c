/* A program for tests/harness/test_coverage_l0.py: libgcov's own .gcda of it is the
 * reference for harness/coverage_l0.py's writer (hit and never-hit functions). */
static int never(int x)
{
	if (x > 3)
		return 1;
	return 2;
}

static int twice(int x)
{
	int y = 0;
	for (int i = 0; i < x; i++)
		y += i & 1 ? 3 : 5;
	return y;
}

int main(int argc, char **argv)
{
	(void)argv;
	int r = twice(argc + 6) + twice(2);
	return argc == 99 ? never(r) : 0;
}
