"""The GCP stack: one component whose children are built by the modules here."""
