"""The domain both apps share: models, storage of encrypted content, the case workflow,
retention and the audit chain. No Flask here."""
