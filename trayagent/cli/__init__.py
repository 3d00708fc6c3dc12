"""`trayagent` on the command line: argv → one command, each returning its exit code."""
