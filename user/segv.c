/* A program that dereferences NULL: init must report "killed by signal 11". */
int main(void)
{
	volatile int *p = 0;
	return *p;
}
