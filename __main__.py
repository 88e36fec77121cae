"""Pulumi program entry (`pulumi preview` / `pulumi up` run this file).

Thin on purpose: the stack's config picks the cloud, and the components live in the
`phase_platform` package (platform/phase_platform/, installed with the project). See
docs/platform.md for the config reference and the deploy runbook.
"""

from phase_platform.program import main

main()
