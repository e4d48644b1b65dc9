/* The subcommand table: CLI_COMMAND(name, function, one-line summary).
 * One line per command, kept in the order `detente --help` lists them.
 * No include guard: cli.h and main.c include it with different macros. */
CLI_COMMAND("version", cmd_version, "print the version")
