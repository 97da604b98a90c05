"""The reporter's side of a case: opening it (web form, oral minutes, retaliation),
following it up with the receipt, taking over a handed-over receipt, agreeing minutes,
and the automatic acknowledgement."""
