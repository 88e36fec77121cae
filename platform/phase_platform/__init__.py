"""Phase Mirror's Pulumi platform: equivalent AWS and GCP stacks built from one store catalog.

`program.main()` is the Pulumi program (the repository's `__main__.py` calls it); `aws/` and
`gcp/` hold one ComponentResource each; `config` is the validated stack configuration;
`testing.run_program(cloud, stack)` runs the real program offline under Pulumi's mocks.

This package lives in `platform/`, which is deliberately not a package itself (it would shadow
the standard library's `platform` module); the project's install makes it importable.
"""
