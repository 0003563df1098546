/*
 * main.c — the `octo` binary: everything lives in the cli module so that tests and fuzzers
 * can drive octo_cli_main directly.
 */
#include "cli/cli.h"

extern char **environ;

int main(int argc, char **argv)
{
    return octo_cli_main(argc, argv, environ);
}
