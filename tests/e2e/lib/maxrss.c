/*
 * maxrss PROGRAM ARG...: run PROGRAM, then print its exit status and
 * its peak resident set in KB. Built static and small on purpose: a
 * child's peak includes the image it had before exec, so a big parent
 * (a shell, python, GNU time) would be counted in the child's figure.
 */
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage	ru;
	pid_t		pid;
	int		status;

	if (argc < 2)
		return 64;
	if ((pid = fork()) == -1)
		return 71;
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1)
		return 71;
	printf("%d %ld\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128,
	    ru.ru_maxrss);
	return 0;
}
