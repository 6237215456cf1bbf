/*
 * cli.h: the command line. The only module that prints, exits, or
 * decides a message's fate from an error's kind.
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

/* Run ferry as invoked; returns the process exit status (sysexits). */
int	cli_main(int argc, char **argv);
#endif
