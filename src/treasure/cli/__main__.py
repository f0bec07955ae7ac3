"""`python -m treasure.cli`: the same as the `treasure` command."""

from treasure.cli import main

main()
