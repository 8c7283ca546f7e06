"""`pulumi up` runs this file: the whole program lives in infra.program."""

from infra.program import main

main()
