/* The subcommand table: CLI_COMMAND(name, function, one-line summary).
 * One line per command, in the order `detente --help` lists them. The
 * functions are declared weak in cli.h, so this table may name a command
 * whose file is being written on another branch: main skips (and --help
 * omits) any entry whose function is not linked in.
 * No include guard: cli.h and main.c include it with different macros. */
CLI_COMMAND("init", cmd_init, "create a node's data directory, key and identity")
CLI_COMMAND("import", cmd_import, "import STIX objects (bundle, array, object or JSON lines)")
CLI_COMMAND("export", cmd_export, "write a collection's objects as a STIX bundle")
CLI_COMMAND("get", cmd_get, "print one object by id")
CLI_COMMAND("stats", cmd_stats, "what the node holds")
CLI_COMMAND("serve", cmd_serve, "run the TAXII 2.1 server")
CLI_COMMAND("user", cmd_user, "manage accounts: add, set, token, remove, list")
CLI_COMMAND("collection", cmd_collection, "manage collections: add, list")
CLI_COMMAND("grant", cmd_grant, "give an account read or write access to a collection")
CLI_COMMAND("key", cmd_key, "show or rotate the node's signing key")
CLI_COMMAND("verify-signature", cmd_verify_signature, "check the signatures of STIX objects offline")
CLI_COMMAND("ledger", cmd_ledger, "the transparency ledger: sth, prove, verify, audit, bundle")
CLI_COMMAND("pattern", cmd_pattern, "STIX patterns: check, match, explain")
CLI_COMMAND("scan", cmd_scan, "scan logs against the node's indicators")
CLI_COMMAND("opinion", cmd_opinion, "publish a signed opinion on an object")
CLI_COMMAND("verify", cmd_verify, "a claim's verdict and its evidence")
CLI_COMMAND("verdicts", cmd_verdicts, "list claims by verdict")
CLI_COMMAND("reliability", cmd_reliability, "each source's reliability from its claims' outcomes")
CLI_COMMAND("peer", cmd_peer, "manage peers: add, list, show, remove")
CLI_COMMAND("sync", cmd_sync, "pull from (and push to) peers, checking their ledgers")
CLI_COMMAND("marking", cmd_marking, "explain an object's visibility")
CLI_COMMAND("validate", cmd_validate, "validate STIX objects offline")
CLI_COMMAND("version", cmd_version, "print the version")
