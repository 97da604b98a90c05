"""Staff accounts: creation and enrolment, sign-in sessions and two-factor codes, the
changes a second administrator approves, and the other administrator actions."""
