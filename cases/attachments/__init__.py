"""Files as they stream in and sit at rest: metadata scrubbing, type recognition, and the
ciphertext store (a folder or database chunks)."""
