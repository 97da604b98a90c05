"""What caseworkers and identity custodians do to a case (ISO 37002: receive, assess,
address, conclude): reading, the workflow steps and deadlines, organising, writing, oral
reports, holders, identity access, the inbox, indicators, export and release. Each step is
checked, applied and audited in the caller's transaction; access is cryptographic."""
