/* The first user program: prints a line through musl's stdio and exits 0. */
#include <stdio.h>

int main(void)
{
	printf("hello, world\n");
	return 0;
}
